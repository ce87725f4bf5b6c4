import type Redis from 'ioredis';

/** What to do with one urgent request for one agent: its alert, nothing (already sent, or over the cap), or one summary. */
export type AlertDecision = 'alert' | 'duplicate' | 'summary' | 'capped';

export const ALERT_WINDOW_MS = 3_600_000;

/**
 * A sliding hour per agent: a sorted set of the references alerted (score = when), at most `cap`
 * of them, and a flag for the one summary allowed per hour past the cap. In one script, so two
 * workers alerting at once cannot both take the last place. Both keys live one hour after their
 * last write. The set names request references only, never a number.
 */
const DECIDE = `
local sent, summary = KEYS[1], KEYS[2]
local now, window, cap, ref = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - window)
if redis.call('ZSCORE', sent, ref) then return 'duplicate' end
if redis.call('ZCARD', sent) < cap then
  redis.call('ZADD', sent, now, ref)
  redis.call('PEXPIRE', sent, window)
  return 'alert'
end
if redis.call('SET', summary, ref, 'NX', 'PX', window) then return 'summary' end
return 'capped'`;

/** Gives the place back when the SMS could not be queued, so a retry alerts. */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

export interface AlertBudget {
  readonly perHour: number;
  decide(agentId: string, reference: string, at: Date): Promise<AlertDecision>;
  release(agentId: string, reference: string): Promise<void>;
}

/** Caps the urgent alerts an agent's phone gets: a leaked gateway token must not flood it. */
export function createAlertBudget(redis: Redis, prefix: string, perHour: number): AlertBudget {
  const keysOf = (agentId: string): string[] => [`${prefix}:hotline:alerts-sent:${agentId}`, `${prefix}:hotline:alerts-summary:${agentId}`];
  return {
    perHour,
    async decide(agentId, reference, at) {
      return (await redis.eval(DECIDE, 2, ...keysOf(agentId), at.getTime(), ALERT_WINDOW_MS, perHour, reference)) as AlertDecision;
    },
    async release(agentId, reference) {
      await redis.eval(RELEASE, 2, ...keysOf(agentId), reference);
    },
  };
}
