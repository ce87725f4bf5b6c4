import type Redis from 'ioredis';

export const PROGRESS_FIELDS = ['recipients', 'sent', 'delivered', 'failed', 'optedOut', 'unknown', 'cancelled', 'costMilli', 'estimatedCostMilli', 'fanoutDone'] as const;
export type ProgressField = (typeof PROGRESS_FIELDS)[number];
/** The counters, and how many batches are still to send. */
export type RunProgress = Record<ProgressField | 'batchesPending', number>;

/** Recipients planned and not yet sent, failed, skipped, cancelled or lost: what is still to go. */
export const waitingOf = (p: Pick<RunProgress, 'recipients' | 'sent' | 'failed' | 'optedOut' | 'cancelled' | 'unknown'>): number =>
  Math.max(0, p.recipients - p.sent - p.failed - p.optedOut - p.cancelled - p.unknown);

/**
 * Live counters of a campaign run in Redis (what the console polls), the campaign's status as the
 * senders see it (checked before every batch, so pause and cancel act at once), and the map from a
 * gateway messageId to its run for delivery reports. MongoDB keeps the records the report is built from.
 */
// Adds a batch's counts once (a batch closed again after a crash adds nothing) and drops it from the pending set.
const CLOSE_BATCH = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

const ADD_ONCE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  return 1
end
return 0`;

// For each report: the first final state of a message counts (HSETNX), in the same step as its counter.
const COUNT_FINALS = `
local delivered, failed = 0, 0
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    if string.lower(ARGV[i + 1]) == 'success' then delivered = delivered + 1 else failed = failed + 1 end
  end
end
if delivered > 0 then redis.call('HINCRBY', KEYS[2], 'delivered', delivered) end
if failed > 0 then redis.call('HINCRBY', KEYS[2], 'failed', failed) end
return {delivered, failed}`;

/** The hash from a gateway messageId to its run: the delivery-report inbox reads it to know a report's id. */
export const messageRunsKey = (prefix: string): string => `${prefix}:campaign-message-runs`;

export function createRunProgress(redis: Redis, prefix: string) {
  const runKey = (run: string) => `${prefix}:campaign-run:${run}`;
  const statusKey = (campaign: string) => `${prefix}:campaign-status:${campaign}`;
  const messageRuns = messageRunsKey(prefix);
  const finals = (run: string) => `${prefix}:campaign-run-finals:${run}`;
  // A set, not a counter: a batch written twice (a fan-out re-run after a crash) is pending once.
  const pending = (run: string) => `${prefix}:campaign-run-pending:${run}`;
  return {
    addPending: async (run: string, batchId: string): Promise<void> => void (await redis.sadd(pending(run), batchId)),
    /** Counts a closed batch, once, atomically, and takes it off the pending set. */
    async closeBatch(run: string, batchId: string, counts: Partial<Record<ProgressField, number>>): Promise<void> {
      const args = Object.entries(counts).filter(([, value]) => value).flatMap(([field, value]) => [field, String(value)]);
      await redis.eval(CLOSE_BATCH, 3, `${prefix}:campaign-run-counted:${run}`, runKey(run), pending(run), batchId, ...args);
    },
    /** Adds counts once per key (a fan-out page written again after a crash counts nothing twice). */
    async addOnce(run: string, key: string, counts: Partial<Record<ProgressField, number>>): Promise<boolean> {
      const args = Object.entries(counts).filter(([, value]) => value).flatMap(([field, value]) => [field, String(value)]);
      return (await redis.eval(ADD_ONCE, 2, `${prefix}:campaign-run-added:${run}`, runKey(run), key, ...args)) === 1;
    },
    async add(run: string, counts: Partial<Record<ProgressField, number>>): Promise<void> {
      const entries = Object.entries(counts).filter(([, value]) => value);
      if (entries.length === 0) return;
      const multi = redis.multi();
      for (const [field, value] of entries) multi.hincrby(runKey(run), field, value);
      await multi.exec();
    },
    async set(run: string, field: ProgressField, value: number): Promise<void> {
      await redis.hset(runKey(run), field, value);
    },
    async get(run: string): Promise<RunProgress> {
      const [raw, batchesPending] = await Promise.all([redis.hgetall(runKey(run)), redis.scard(pending(run))]);
      return { ...(Object.fromEntries(PROGRESS_FIELDS.map((field) => [field, Number(raw[field] ?? 0)])) as Record<ProgressField, number>), batchesPending };
    },
    /** A relative campaign's run walks its audience again at each check (its messages are unique per subscriber). */
    reopenFanOut: async (run: string): Promise<void> => void (await redis.hdel(runKey(run), 'fanoutDone')),
    /** Subscribers already given a batch in this run (relative campaigns walk everyone at each check). */
    async unseen(run: string, subscribers: readonly string[]): Promise<boolean[]> {
      if (subscribers.length === 0) return [];
      return (await redis.smismember(`${prefix}:campaign-run-seen:${run}`, ...subscribers)).map((member) => member === 0);
    },
    /** Marks the subscribers as batched and keeps the batch's plan, in one step. */
    async planBatch(run: string, batchId: string, subscribers: readonly string[], plan: string): Promise<void> {
      await redis.multi().sadd(`${prefix}:campaign-run-seen:${run}`, ...subscribers).hset(`${prefix}:campaign-run-plans:${run}`, batchId, plan).exec();
    },
    plans: async (run: string): Promise<string[]> => Object.values(await redis.hgetall(`${prefix}:campaign-run-plans:${run}`)),
    planDone: async (run: string, batchId: string): Promise<void> => void (await redis.hdel(`${prefix}:campaign-run-plans:${run}`, batchId)),
    setStatus: async (campaign: string, status: string): Promise<void> => void (await redis.set(statusKey(campaign), status)),
    status: (campaign: string): Promise<string | null> => redis.get(statusKey(campaign)),
    async rememberMessages(run: string, messageIds: readonly string[]): Promise<void> {
      if (messageIds.length === 0) return;
      await redis.hset(messageRuns, Object.fromEntries(messageIds.map((id) => [id, run])));
    },
    runsOf: async (messageIds: readonly string[]): Promise<Array<string | null>> => (messageIds.length ? redis.hmget(messageRuns, ...messageIds) : []),
    /** Counts the first final report of each message of a run, atomically: a retried batch counts nothing twice. */
    async countFinals(run: string, reports: ReadonlyArray<{ messageId: string; status: string }>): Promise<void> {
      if (reports.length === 0) return;
      await redis.eval(COUNT_FINALS, 2, finals(run), runKey(run), ...reports.flatMap((report) => [report.messageId, report.status]));
    },
  };
}

export type RunProgressStore = ReturnType<typeof createRunProgress>;
