import { kannelProblems, parseKannelStatus } from './kannel-status';

/** Kannel's status.txt answers within this, or readiness says Kannel is unreachable. */
const STATUS_TIMEOUT_MS = 1_000;
/** A probe every second would read status.txt every second per process: the answer is kept this long. */
const CACHE_MS = 3_000;

/**
 * The readiness check of SMS_GATEWAY=kannel: bearerbox's status.txt must show the SMSCs the routes send over (and every
 * other configured bind) online and an smsbox connected (after a bearerbox restart smsbox comes back some 11 s
 * later, and until then sendsms is refused). Throws an error that names what is missing; the password is never in it.
 */
export function kannelReadiness(options: {
  adminUrl: string;
  password: string;
  smscs: readonly string[];
  now?: () => number;
}): () => Promise<void> {
  const now = options.now ?? Date.now;
  let cached: { at: number; problems: Promise<string[]> } | undefined;
  const read = async (): Promise<string[]> => {
    const url = `${options.adminUrl.replace(/\/$/, '')}/status.txt?password=${encodeURIComponent(options.password)}`;
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
      if (!res.ok) return [`Kannel status.txt answered HTTP ${res.status}`];
      text = await res.text();
    } catch (err) {
      const name = (err as { name?: string }).name;
      return [
        name === 'TimeoutError' ? `Kannel status.txt did not answer within ${STATUS_TIMEOUT_MS} ms` : 'Kannel admin port unreachable',
      ];
    }
    return kannelProblems(parseKannelStatus(text), options.smscs);
  };
  return async () => {
    if (!cached || now() - cached.at >= CACHE_MS) cached = { at: now(), problems: read() };
    const problems = await cached.problems;
    if (problems.length) throw new Error(problems.join('; '));
  };
}
