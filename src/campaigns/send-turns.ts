import type Redis from 'ioredis';
import { createPace } from '../platform/redis-pace';
import type { Campaign } from './campaign-store';

/** A batch's turn at the gateway: granted (go after waitMs) or not (queue it again in waitMs). */
export type TakeTurn = (campaign: Pick<Campaign, '_id' | 'spread'>, messages: number, maxWaitMs: number) => Promise<{ granted: boolean; waitMs: number }>;

/**
 * Planning spaces a campaign's batches, but only booking each send holds the limits when campaigns
 * overlap, a paused one resumes while its first plan is still queued, or retries bunch up: the
 * campaign's own "at most N messages/s", then the gateway's ceiling (SMS_MAX_PER_SECOND) for all.
 */
export function createSendTurns(redis: Redis, prefix: string, ceiling: number): TakeTurn {
  const gateway = createPace(redis, `${prefix}:gateway-pace`, ceiling);
  return async (campaign, messages, maxWaitMs) => {
    const own = campaign.spread.maxPerSecond;
    const mine = own && own < ceiling ? await createPace(redis, `${prefix}:campaign-pace:${campaign._id}`, own).reserve(messages, maxWaitMs) : { granted: true, waitMs: 0 };
    if (!mine.granted) return mine;
    const all = await gateway.reserve(messages, maxWaitMs);
    return all.granted ? { granted: true, waitMs: Math.max(mine.waitMs, all.waitMs) } : all;
  };
}
