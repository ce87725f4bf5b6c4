import type Redis from 'ioredis';
import type { SmsRoute } from '../config/sms-routes';
import { bookTurn, type Rate } from '../platform/redis-pace';
import type { Campaign } from './campaign-store';

/** A batch's turn at the gateway: granted (go after waitMs) or not (queue it again in waitMs). */
export type TakeTurn = (
  campaign: Pick<Campaign, '_id' | 'spread'>,
  messages: number,
  maxWaitMs: number,
  /** The batch's route: its operator's ceiling is kept too (none for a batch written before routes). */
  route?: Pick<SmsRoute, 'name' | 'maxPerSecond'>,
) => Promise<{ granted: boolean; waitMs: number }>;

/**
 * Planning spaces a campaign's batches, but only booking each send holds the limits when campaigns
 * overlap, a paused one resumes while its first plan is still queued, or retries bunch up: the
 * campaign's own "at most N messages/s", the route's (its operator's bind or account), and the
 * gateway's ceiling (SMS_MAX_PER_SECOND) for all. A rate at or above the ceiling is left out: the
 * ceiling holds it already (so one route from today's settings books exactly as before routes).
 */
export function createSendTurns(redis: Redis, prefix: string, ceiling: number): TakeTurn {
  const gateway = { key: `${prefix}:gateway-pace`, perSecond: ceiling };
  return (campaign, messages, maxWaitMs, route) => {
    const own = campaign.spread.maxPerSecond;
    const rates: Rate[] = [];
    if (own && own < ceiling) rates.push({ key: `${prefix}:campaign-pace:${campaign._id}`, perSecond: own });
    if (route && route.maxPerSecond < ceiling) rates.push({ key: `${prefix}:route-pace:${route.name}`, perSecond: route.maxPerSecond });
    rates.push(gateway);
    return bookTurn(redis, rates, messages, maxWaitMs);
  };
}
