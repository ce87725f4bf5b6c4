import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { AppError } from './app-error';
import { RELEASE_IF_HELD } from './redis-lease';
import { sleep } from './with-timeout';


/**
 * One writer at a time per key (a request, a phone). The MongoDB-compatible server used here
 * applies an update as read-then-write, so two agents claiming at once would both "win" without
 * this. The lock expires by itself if its holder dies.
 */
export function createLocks(redis: Redis, prefix: string, options: { ttlMs?: number; waitMs?: number } = {}) {
  const ttlMs = options.ttlMs ?? 10_000;
  const waitMs = options.waitMs ?? 5_000;
  return async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const key = `${prefix}:lock:${name}`;
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + waitMs;
    while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new AppError(503, 'busy', 'Someone else is changing this right now; try again');
      await sleep(20 + Math.random() * 30);
    }
    try {
      return await work();
    } finally {
      await redis.eval(RELEASE_IF_HELD, 1, key, token).catch(() => undefined);
    }
  };
}

export type WithLock = ReturnType<typeof createLocks>;
