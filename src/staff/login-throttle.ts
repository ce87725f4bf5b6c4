import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

export interface ThrottleLimits {
  readonly perAccount: number;
  readonly perIp: number;
  readonly windowSeconds: number;
}

/** Failed logins counted per account and per IP in Redis windows; past a limit, logins wait. */
export function createLoginThrottle(redis: Redis, options: { prefix: string; limits: ThrottleLimits }) {
  const { limits } = options;
  // The email is hashed in the key: Redis holds no address list.
  const accountKey = (email: string): string => `${options.prefix}:login:account:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
  const ipKey = (ip: string): string => `${options.prefix}:login:ip:${ip}`;
  return {
    /** Seconds to wait, or 0 when a login may be tried. */
    async retryAfter(email: string, ip: string): Promise<number> {
      const [account, address] = await redis.mget(accountKey(email), ipKey(ip));
      if (Number(account ?? 0) < limits.perAccount && Number(address ?? 0) < limits.perIp) return 0;
      const ttls = await Promise.all([redis.ttl(accountKey(email)), redis.ttl(ipKey(ip))]);
      return Math.max(1, ...ttls);
    },
    async recordFailure(email: string, ip: string): Promise<void> {
      await redis.multi().incr(accountKey(email)).expire(accountKey(email), limits.windowSeconds, 'NX').incr(ipKey(ip)).expire(ipKey(ip), limits.windowSeconds, 'NX').exec();
    },
    async reset(email: string): Promise<void> {
      await redis.del(accountKey(email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
