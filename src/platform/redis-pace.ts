import type Redis from 'ioredis';

/**
 * A rate shared by every process that uses the same key: each caller books the next free stretch
 * of time for its messages (messages / perSecond), on Redis's clock, so workers on several
 * machines share one timeline.
 */
export interface Pace {
  /**
   * Books `messages`. Granted: go after `waitMs`. Not granted (the next free time is more than
   * `maxWaitMs` away): nothing is booked; try again in `waitMs`.
   */
  reserve(messages: number, maxWaitMs: number): Promise<{ granted: boolean; waitMs: number }>;
}

const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free)
local wait = start - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
local length = tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(start + length), 'PX', math.ceil(wait + length) + 1000)
return {1, wait}`;

export function createPace(redis: Redis, key: string, perSecond: number): Pace {
  return {
    async reserve(messages, maxWaitMs) {
      const lengthMs = Math.ceil((messages / perSecond) * 1_000);
      const [granted, waitMs] = (await redis.eval(RESERVE, 1, key, lengthMs, maxWaitMs)) as [number, number];
      return { granted: granted === 1, waitMs };
    },
  };
}
