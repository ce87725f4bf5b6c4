import type Redis from 'ioredis';
import type { RedisConnections } from './redis';

/** A callback that needs Redis gets its answer from Redis within this, or 503 (the gateway sends it again later). */
const CALLBACK_REDIS_TIMEOUT_MS = 500;
const callbackConnections = new WeakMap<RedisConnections, Redis>();

/**
 * The gateways' callbacks' own Redis connection, one per process: it refuses commands at once while Redis is
 * away (the shared client queues them until it is back, so a callback would hang until the gateway
 * gives up) and gives up on a command Redis does not answer in time (a link that drops silently).
 */
export function callbackRedis(redis: RedisConnections): Redis {
  const existing = callbackConnections.get(redis);
  if (existing) return existing;
  const opened = redis.open('sms-callbacks', {
    enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: CALLBACK_REDIS_TIMEOUT_MS,
  });
  callbackConnections.set(redis, opened);
  return opened;
}
