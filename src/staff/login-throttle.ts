import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

export interface ThrottleLimits {
  readonly perAccount: number;
  readonly perIp: number;
  readonly windowSeconds: number;
}

/**
 * Sign-in attempts counted per account and per IP in Redis windows. An attempt is counted before
 * its password is checked (atomically), so guesses sent in parallel cannot slip past the limit;
 * a success clears the account's count and gives the IP its attempt back.
 */
export function createLoginThrottle(redis: Redis, options: { prefix: string; limits: ThrottleLimits }) {
  const { limits } = options;
  // The email is hashed in the key: Redis holds no address list.
  const accountKey = (email: string): string => `${options.prefix}:login:account:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
  const ipKey = (ip: string): string => `${options.prefix}:login:ip:${ip}`;
  return {
    /** Counts an attempt; returns the seconds to wait when it is over a limit (0: go ahead and check). */
    async attempt(email: string, ip: string): Promise<number> {
      const replies = await redis
        .multi()
        .incr(accountKey(email))
        .expire(accountKey(email), limits.windowSeconds, 'NX')
        .incr(ipKey(ip))
        .expire(ipKey(ip), limits.windowSeconds, 'NX')
        .ttl(accountKey(email))
        .ttl(ipKey(ip))
        .exec();
      const value = (index: number): number => Number(replies?.[index]?.[1] ?? 0);
      const overAccount = value(0) > limits.perAccount;
      const overIp = value(2) > limits.perIp;
      if (!overAccount && !overIp) return 0;
      return Math.max(1, overAccount ? value(4) : 0, overIp ? value(5) : 0);
    },
    async succeeded(email: string, ip: string): Promise<void> {
      await redis.multi().del(accountKey(email)).decr(ipKey(ip)).exec();
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
