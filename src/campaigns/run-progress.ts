import type Redis from 'ioredis';

export const PROGRESS_FIELDS = ['recipients', 'sent', 'delivered', 'failed', 'optedOut', 'unknown', 'cancelled', 'costMilli', 'estimatedCostMilli', 'batchesPending', 'fanoutDone'] as const;
export type ProgressField = (typeof PROGRESS_FIELDS)[number];
export type RunProgress = Record<ProgressField, number>;

/**
 * Live counters of a campaign run in Redis (what the console polls), the campaign's status as the
 * senders see it (checked before every batch, so pause and cancel act at once), and the map from a
 * gateway messageId to its run for delivery reports. MongoDB keeps the records the report is built from.
 */
export function createRunProgress(redis: Redis, prefix: string) {
  const runKey = (run: string) => `${prefix}:campaign-run:${run}`;
  const statusKey = (campaign: string) => `${prefix}:campaign-status:${campaign}`;
  const messageRuns = `${prefix}:campaign-message-runs`;
  const finals = (run: string) => `${prefix}:campaign-run-finals:${run}`;
  return {
    async add(run: string, counts: Partial<RunProgress>): Promise<void> {
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
      const raw = await redis.hgetall(runKey(run));
      return Object.fromEntries(PROGRESS_FIELDS.map((field) => [field, Number(raw[field] ?? 0)])) as RunProgress;
    },
    /** The fan-out's place in the audience (the last subscriber hash it finished), to resume after a crash. */
    cursor: async (run: string): Promise<string> => (await redis.hget(runKey(run), 'cursor')) ?? '',
    setCursor: async (run: string, cursor: string): Promise<void> => void (await redis.hset(runKey(run), 'cursor', cursor)),
    setStatus: async (campaign: string, status: string): Promise<void> => void (await redis.set(statusKey(campaign), status)),
    status: (campaign: string): Promise<string | null> => redis.get(statusKey(campaign)),
    async rememberMessages(run: string, messageIds: readonly string[]): Promise<void> {
      if (messageIds.length === 0) return;
      await redis.hset(messageRuns, Object.fromEntries(messageIds.map((id) => [id, run])));
    },
    runsOf: async (messageIds: readonly string[]): Promise<Array<string | null>> => (messageIds.length ? redis.hmget(messageRuns, ...messageIds) : []),
    /** True the first time a message reaches a final state: later or repeated reports change nothing. */
    firstFinal: async (run: string, messageId: string, status: string): Promise<boolean> => (await redis.hsetnx(finals(run), messageId, status)) === 1,
  };
}

export type RunProgressStore = ReturnType<typeof createRunProgress>;
