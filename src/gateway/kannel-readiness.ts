import { kannelProblems, parseKannelStatus, type KannelStatus } from './kannel-status';

/** Kannel's status.txt answers within this, or readiness says Kannel is unreachable. */
const STATUS_TIMEOUT_MS = 1_000;
/** A probe every second would read status.txt every second per process: the answer is kept this long. */
const CACHE_MS = 3_000;

/** One reading of status.txt: what it said, or why it could not be read (the password is never in it). */
export type KannelReading = { readonly status: KannelStatus } | { readonly unreadable: string };

/**
 * Reads bearerbox's status.txt, at most once every few seconds per process: /readyz and the sends that check a
 * route's bind before going out share the one reading.
 */
export function kannelStatusReader(options: { adminUrl: string; password: string; now?: () => number }): () => Promise<KannelReading> {
  const now = options.now ?? Date.now;
  let cached: { at: number; reading: Promise<KannelReading> } | undefined;
  const read = async (): Promise<KannelReading> => {
    const url = `${options.adminUrl.replace(/\/$/, '')}/status.txt?password=${encodeURIComponent(options.password)}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
      if (!res.ok) return { unreadable: `Kannel status.txt answered HTTP ${res.status}` };
      return { status: parseKannelStatus(await res.text()) };
    } catch (err) {
      const name = (err as { name?: string }).name;
      return {
        unreadable:
          name === 'TimeoutError' ? `Kannel status.txt did not answer within ${STATUS_TIMEOUT_MS} ms` : 'Kannel admin port unreachable',
      };
    }
  };
  return () => {
    if (!cached || now() - cached.at >= CACHE_MS) cached = { at: now(), reading: read() };
    return cached.reading;
  };
}

/**
 * The readiness check of SMS_GATEWAY=kannel: bearerbox's status.txt must show the SMSCs the routes send over (and every
 * other configured bind) online and an smsbox connected (after a bearerbox restart smsbox comes back some 11 s
 * later, and until then sendsms is refused). Throws an error that names what is missing.
 */
export function kannelReadiness(read: () => Promise<KannelReading>, smscs: readonly string[]): () => Promise<void> {
  return async () => {
    const reading = await read();
    const problems = 'unreadable' in reading ? [reading.unreadable] : kannelProblems(reading.status, smscs);
    if (problems.length) throw new Error(problems.join('; '));
  };
}
