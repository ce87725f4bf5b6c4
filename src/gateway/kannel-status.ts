/**
 * Reads Kannel's bearerbox status.txt (admin port): which SMSC binds are online and how many smsboxes are
 * connected. Kannel 1.4.5 writes one line per SMSC group, `admin-id[smsc-id]    SMPP:host:port/port:user:
 * (online 20s, ...)`, and the state is one of online, connecting, re-connecting, dead, disconnected; and one
 * line per connected box under "Box connections:", `smsbox:(none), IP 127.0.0.1 ...`. Pure.
 */
export interface KannelSmscState {
  /** The smsc-id (the bracketed name), which sendsms's `smsc` and routing use. */
  readonly id: string;
  /** online, connecting, re-connecting, dead, disconnected... as Kannel words it. */
  readonly state: string;
}

export interface KannelStatus {
  /** False when the text is not a bearerbox status page. */
  readonly recognised: boolean;
  readonly smsboxes: number;
  readonly smscs: readonly KannelSmscState[];
}

export function parseKannelStatus(text: string): KannelStatus {
  const recognised = /^Kannel bearerbox version/m.test(text) && /^SMSC connections:/m.test(text);
  const section = (title: string): string[] => {
    const start = text.indexOf(`${title}:`);
    if (start < 0) return [];
    const lines = text.slice(start).split('\n').slice(1);
    const end = lines.findIndex((line) => line.trim() !== '' && !/^\s/.test(line));
    return (end < 0 ? lines : lines.slice(0, end)).filter((line) => line.trim() !== '');
  };
  const smsboxes = section('Box connections').filter((line) => /^\s*smsbox:/.test(line)).length;
  const smscs = section('SMSC connections').flatMap((line): KannelSmscState[] => {
    const match = /^\s*(\S+?)(?:\[([^\]]*)\])?\s+\S+\s+\((\w[\w-]*)/.exec(line);
    if (!match) return [];
    return [{ id: match[2] || match[1] || '', state: match[3] ?? '' }];
  });
  return { recognised, smsboxes, smscs };
}

/** What is missing for sending through Kannel (empty: ready): SMSC binds not online, no smsbox. */
export function kannelProblems(status: KannelStatus, expectedSmscs: readonly string[] = []): string[] {
  if (!status.recognised) return ['status.txt is not a bearerbox status page'];
  const problems = status.smscs.filter((smsc) => smsc.state !== 'online').map((smsc) => `SMSC ${smsc.id} is ${smsc.state}`);
  for (const id of expectedSmscs) if (!status.smscs.some((smsc) => smsc.id === id)) problems.push(`SMSC ${id} is not configured in Kannel`);
  if (status.smsboxes === 0) problems.push('no smsbox is connected to bearerbox');
  return problems;
}
