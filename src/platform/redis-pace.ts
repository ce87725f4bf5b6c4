import type Redis from 'ioredis';

/** A rate to keep: the Redis key that holds its next free time, and messages per second. */
export interface Rate {
  key: string;
  perSecond: number;
}

/**
 * Books a turn for `messages` under every rate at once (one script, so nothing is booked unless
 * all of them are): the turn starts when the busiest rate is free, and each rate is then busy for
 * messages / perSecond from there. Shared by every process using the same keys, on Redis's clock.
 * Granted: go after `waitMs`. Not granted (more than `maxWaitMs` away): nothing booked; try again then.
 */
export async function bookTurn(
  redis: Redis,
  rates: readonly Rate[],
  messages: number,
  maxWaitMs: number,
): Promise<{ granted: boolean; waitMs: number }> {
  if (rates.length === 0) return { granted: true, waitMs: 0 };
  const lengths = rates.map((rate) => Math.ceil((messages / rate.perSecond) * 1_000));
  const [granted, waitMs] = (await redis.eval(BOOK, rates.length, ...rates.map((rate) => rate.key), maxWaitMs, ...lengths)) as [
    number,
    number,
  ];
  return { granted: granted === 1, waitMs };
}

const BOOK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = now
for i = 1, #KEYS do start = math.max(start, tonumber(redis.call('GET', KEYS[i]) or '0')) end
local wait = start - now
if wait > tonumber(ARGV[1]) then return {0, wait} end
for i = 1, #KEYS do
  local length = tonumber(ARGV[i + 1])
  redis.call('SET', KEYS[i], tostring(start + length), 'PX', math.ceil(wait + length) + 1000)
end
return {1, wait}`;
