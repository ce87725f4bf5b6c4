import type Redis from 'ioredis';
import { bookTurn } from '../platform/redis-pace';
import type { Campaign } from './campaign-store';

/** A batch's turn at the gateway: granted (go after waitMs) or not (queue it again in waitMs). */
export type TakeTurn = (campaign: Pick<Campaign, '_id' | 'spread'>, messages: number, maxWaitMs: number) => Promise<{ granted: boolean; waitMs: number }>;

/**
 * Planning spaces a campaign's batches, but only booking each send holds the limits when campaigns
 * overlap, a paused one resumes while its first plan is still queued, or retries bunch up: the
 * campaign's own "at most N messages/s" and the gateway's ceiling (SMS_MAX_PER_SECOND) for all.
 */
export function createSendTurns(redis: Redis, prefix: string, ceiling: number): TakeTurn {
  const gateway = { key: `${prefix}:gateway-pace`, perSecond: ceiling };
  return (campaign, messages, maxWaitMs) => {
    const own = campaign.spread.maxPerSecond;
    const rates = own && own < ceiling ? [{ key: `${prefix}:campaign-pace:${campaign._id}`, perSecond: own }, gateway] : [gateway];
    return bookTurn(redis, rates, messages, maxWaitMs);
  };
}
