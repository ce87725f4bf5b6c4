import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

export interface ThrottleLimits {
  /** Failures on one account from one client: an IP address, or a device that signed in to it before. */
  readonly perAccount: number;
  readonly perIp: number;
  /** Failures on one account from all the clients that never signed in to it. */
  readonly perAccountNewDevices: number;
  readonly windowSeconds: number;
  /** The first wait past a limit; each further failure doubles it, up to the window. */
  readonly firstDelaySeconds: number;
}

/** Who is trying to sign in: the account, the client's address, and its device if a valid device cookie named one. */
export interface SignInClient {
  readonly email: string;
  readonly ip: string;
  /** From a device cookie issued to this same account (see LoginDevices); absent for any other client. */
  readonly device?: string;
}

// For each scope KEYS[i] (a hash: n = attempts counted, until = no attempt before this time, ms):
// refuse while a scope at its limit still makes its client wait; otherwise count the attempt in
// every scope, and a scope that reaches its limit makes the next attempt wait, twice as long each
// time (first ARGV[3] ms, at most the window ARGV[2]). ARGV[1] = now (ms), ARGV[3 + i] = KEYS[i]'s limit.
// Checked and counted in one step, so guesses sent in parallel cannot slip past a limit.
const ATTEMPT = `
local now, window, first = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i = 1, #KEYS do
  local counted = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
  local waitUntil = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
  if counted >= tonumber(ARGV[3 + i]) and waitUntil - now > wait then wait = waitUntil - now end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local counted = redis.call('HINCRBY', KEYS[i], 'n', 1)
  local limit = tonumber(ARGV[3 + i])
  local delay = 0
  if counted >= limit then
    delay = math.min(window, first * 2 ^ (counted - limit))
    redis.call('HSET', KEYS[i], 'until', string.format('%d', now + delay))
  end
  redis.call('PEXPIRE', KEYS[i], string.format('%d', window + delay))
end
return 0`;

// A success clears its own scope and gives the shared ones their attempt back (never creating a
// key: one made here would have no lifetime).
const SUCCEEDED = `
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HINCRBY', KEYS[i], 'n', -1) end
end
return 0`;

/**
 * Sign-in attempts slowed down, never locked, and never by someone else's failures alone. A
 * client is counted per account it tries (a device that signed in to the account before, by its
 * device cookie; any other client by its IP) and, unless it is such a device, per IP and in the
 * account's share for new devices. Past a limit the client waits, longer after each further
 * failure; an attacker's failures from one address make only that address wait, and a correct
 * password from a device that signed in before goes through even while the account is guessed at
 * from many addresses. A success clears its client's count and gives the others their attempt back.
 */
export function createLoginThrottle(redis: Redis, options: { prefix: string; limits: ThrottleLimits; now?: () => number }) {
  const { limits } = options;
  const now = options.now ?? Date.now;
  // The email is hashed in the key: Redis holds no address list.
  const account = (email: string): string => createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
  // Not the `login:` keys of the version before (plain counters): a hash under one of those names would fail.
  const key = (...parts: string[]): string => `${options.prefix}:login-throttle:${parts.join(':')}`;
  const scopes = (client: SignInClient): { own: string; shared: Array<[key: string, limit: number]> } => {
    const id = account(client.email);
    if (client.device) return { own: key('device', id, client.device), shared: [] };
    const shared: Array<[string, number]> = [[key('ip', client.ip), limits.perIp], [key('new-devices', id), limits.perAccountNewDevices]];
    return { own: key('client', id, client.ip), shared };
  };
  return {
    /** Counts an attempt; returns the seconds to wait when it is over a limit (0: go ahead and check). */
    async attempt(client: SignInClient): Promise<number> {
      const { own, shared } = scopes(client);
      const keys = [own, ...shared.map(([scope]) => scope)];
      const timing = [now(), limits.windowSeconds * 1_000, limits.firstDelaySeconds * 1_000];
      const args = [...timing, limits.perAccount, ...shared.map(([, limit]) => limit)];
      const waitMs = Number(await redis.eval(ATTEMPT, keys.length, ...keys, ...args));
      return waitMs > 0 ? Math.ceil(waitMs / 1_000) : 0;
    },
    async succeeded(client: SignInClient): Promise<void> {
      const { own, shared } = scopes(client);
      await redis.eval(SUCCEEDED, 1 + shared.length, own, ...shared.map(([scope]) => scope));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
