import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

export interface StaffSession {
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAt: string;
}

/** Console sessions in Redis; the id is the cookie's only content. */
export function createStaffSessions(redis: Redis, options: { prefix: string; ttlSeconds: number }) {
  const key = (id: string): string => `${options.prefix}:staff:session:${id}`;
  const userKey = (userId: string): string => `${options.prefix}:staff:user-sessions:${userId}`;
  return {
    /** A new id at every login (the old one, if any, is destroyed): no session fixation. */
    async create(userId: string, previousId?: string): Promise<{ id: string; session: StaffSession }> {
      if (previousId) await redis.del(key(previousId));
      const id = randomBytes(32).toString('base64url');
      const session: StaffSession = { userId, csrfToken: randomBytes(24).toString('base64url'), createdAt: new Date().toISOString() };
      await redis
        .multi()
        .set(key(id), JSON.stringify(session), 'EX', options.ttlSeconds)
        .sadd(userKey(userId), id)
        .expire(userKey(userId), options.ttlSeconds)
        .exec();
      return { id, session };
    },
    async get(id: string): Promise<StaffSession | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const raw = await redis.get(key(id));
      return raw ? (JSON.parse(raw) as StaffSession) : undefined;
    },
    async destroy(id: string): Promise<void> {
      await redis.del(key(id));
    },
    /** Ends every session of a user but one (after a password change, a stolen session dies too). */
    async destroyOthers(userId: string, keepId: string): Promise<number> {
      const ids = (await redis.smembers(userKey(userId))).filter((id) => id !== keepId);
      if (ids.length) await redis.multi().del(...ids.map(key)).srem(userKey(userId), ...ids).exec();
      return ids.length;
    },
  };
}

export type StaffSessions = ReturnType<typeof createStaffSessions>;
