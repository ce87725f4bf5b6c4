import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

/** Deletes the key only if it still holds this token (a lapsed lock or lease may be someone else's now). */
export const RELEASE_IF_HELD = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export interface Lease {
  release(): Promise<void>;
}

/**
 * Takes the lease on `key` for one holder, or returns null when another holds it. The holder renews
 * it every third of `ttlMs` while it works, so it lapses only when the holder is gone (a process
 * that died stops renewing), never because its work was slow; release() ends it at once.
 */
export async function takeLease(redis: Redis, key: string, ttlMs: number): Promise<Lease | null> {
  const token = randomBytes(12).toString('hex');
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
  // A failed renewal (Redis away for a moment) is tried again at the next tick; the lease has
  // two more thirds of its time left.
  const renewing = setInterval(
    () => void redis.eval(RENEW, 1, key, token, ttlMs).catch(() => undefined),
    Math.max(1, Math.floor(ttlMs / 3)),
  );
  return {
    async release() {
      clearInterval(renewing);
      await redis.eval(RELEASE_IF_HELD, 1, key, token);
    },
  };
}
