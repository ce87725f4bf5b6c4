import type Redis from 'ioredis';

/**
 * `failed`: failed to send (the gateway refused, or transient failures past the retries); `failedDelivery`: sent,
 * then reported not delivered. So sent + failed + unknown + optedOut + cancelled = recipients once all is sent,
 * and delivered + failedDelivery <= sent.
 */
export const PROGRESS_FIELDS = [
  'recipients',
  'sent',
  'delivered',
  'failedDelivery',
  'failed',
  'optedOut',
  'unknown',
  'cancelled',
  'costMilli',
  'estimatedCostMilli',
  'fanoutDone',
] as const;
export type ProgressField = (typeof PROGRESS_FIELDS)[number];
/** The counters, and how many batches are still to send. */
export type RunProgress = Record<ProgressField | 'batchesPending', number>;

/** Recipients planned and not yet sent, failed to send, skipped, cancelled or lost: exactly what is still to send. */
export const waitingOf = (p: Pick<RunProgress, 'recipients' | 'sent' | 'failed' | 'optedOut' | 'cancelled' | 'unknown'>): number =>
  Math.max(0, p.recipients - p.sent - p.failed - p.optedOut - p.cancelled - p.unknown);

/**
 * Live counters of a campaign run in Redis (what the console polls), the campaign's status as the
 * senders see it (checked before every batch, so pause and cancel act at once), and the map from a
 * gateway messageId to its run for delivery reports. MongoDB keeps the records the report is built from.
 */
// Adds a batch's counts once (a batch closed again after a crash adds nothing) and drops it from the pending set.
// In the same step, and only then, its accepted messageIds go into the map a delivery report finds its run
// by: a report can count as delivered only for a message counted as sent (delivered <= sent, always).
// A run whose live counters are gone (archived after its report period) takes nothing more: a
// stray job closing a batch again must not bring its keys back without a lifetime.
// Its recipients counted unknown are kept by phone hash in the same step (a report naming the phone links
// one back, see LINK_UNKNOWN); a phone unknown in two runs at once is marked '?': neither is linked by phone.
// KEYS: counted, counters, pending, map bucket, unknown-phones bucket.
// ARGV: batch, bucket expiry, run, n ids, ids..., n unknown, (phone, run+message)..., field, value...
const CLOSE_BATCH = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local ids = tonumber(ARGV[4])
local unknowns = tonumber(ARGV[5 + ids])
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  for i = 6 + ids + 2 * unknowns, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  if ids > 0 then
    for i = 5, 4 + ids do redis.call('HSET', KEYS[4], ARGV[i], ARGV[3]) end
    redis.call('PEXPIREAT', KEYS[4], ARGV[2])
  end
  if unknowns > 0 then
    for i = 6 + ids, 5 + ids + 2 * unknowns, 2 do
      local was = redis.call('HGET', KEYS[5], ARGV[i])
      redis.call('HSET', KEYS[5], ARGV[i], (was and was ~= ARGV[i + 1]) and '?' or ARGV[i + 1])
    end
    redis.call('PEXPIREAT', KEYS[5], ARGV[2])
  end
end
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

// A delivery report names the phone of a recipient counted unknown: that send reached the gateway. Once
// (the field goes in the same step): unknown -1, sent +1, and its messageId maps to the run, so this and
// later reports count as for any sent message. A run archived meanwhile takes nothing.
// KEYS: unknown-phones bucket, counters, map bucket. ARGV: phone, run+message, messageId, run, map expiry.
const LINK_UNKNOWN = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'unknown', -1)
redis.call('HINCRBY', KEYS[2], 'sent', 1)
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('PEXPIREAT', KEYS[3], ARGV[5])
return 1`;

const ADD_ONCE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  return 1
end
return 0`;

// For each report: the first final state of a message counts (HSETNX), in the same step as its counter.
// A run already archived counts nothing (-1: the caller counts those reports as unknown); an ended
// run's first report creates the finals hash with the run's own expiry.
const COUNT_FINALS = `
local ttl = redis.call('PTTL', KEYS[2])
if ttl == -2 then return {-1, -1} end
local delivered, failed = 0, 0
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    if string.lower(ARGV[i + 1]) == 'success' then delivered = delivered + 1 else failed = failed + 1 end
  end
end
if delivered > 0 then redis.call('HINCRBY', KEYS[2], 'delivered', delivered) end
if failed > 0 then redis.call('HINCRBY', KEYS[2], 'failedDelivery', failed) end
if ttl > 0 and redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ttl) end
return {delivered, failed}`;

// Plans a batch only if none of its subscribers is batched yet, marking them in the same step: two
// fan-outs of one run (a job stalled and run again while the first still works) never batch one
// subscriber twice. 0: some were taken, the caller plans the rest again.
const PLAN_BATCH = `
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then return 0 end
end
redis.call('SADD', KEYS[1], unpack(ARGV, 3))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

// The run has ended: remember when (once), and give each of its keys that moment plus ARGV[2] ms.
// Idempotent: called again, it sets the same expiry.
const END_RUN = `
redis.call('HSETNX', KEYS[1], 'endedAt', ARGV[1])
local ended = tonumber(redis.call('HGET', KEYS[1], 'endedAt'))
for i = 1, #KEYS do redis.call('PEXPIREAT', KEYS[i], ended + tonumber(ARGV[2])) end
return ended`;

/** A run with nothing counted. */
export const noProgress = (): RunProgress => ({
  ...(Object.fromEntries(PROGRESS_FIELDS.map((field) => [field, 0])) as Record<ProgressField, number>),
  batchesPending: 0,
});

export interface RunProgressOptions {
  /** A delivery report finds its run for at least this long after the send (the map's buckets). */
  reportWindowMs: number;
  now(): Date;
}

const HOUR = 3_600_000;
/** Beyond the report period, the keys of an ended run are kept this much longer, in case its archive job runs late. */
export const RUN_KEYS_GRACE_MS = 24 * HOUR;

// The messageId -> run map, one hash per window-long bucket of send time, each expiring one window
// after its bucket ends: a report is looked up in the current and the previous bucket, so it finds
// its run for at least one window after the send (at most two). Redis 7.0 has no per-field expiry.
const windowOf = (reportWindowMs: number): number => Math.max(1, Math.round(reportWindowMs));
const bucketKey = (prefix: string, bucket: number): string => `${prefix}:campaign-message-runs:${bucket}`;
/** Recipients counted unknown, by phone hash, bucketed like the map: a report finds them one to two windows after. */
const unknownPhonesKey = (prefix: string, bucket: number): string => `${prefix}:campaign-unknown-phones:${bucket}`;
/** A recipient counted unknown whom a delivery report's phone names: where it is kept, and what. */
export interface UnknownMatch {
  key: string;
  value: string;
  run: string;
  message: string;
}
/** The single map of versions before the buckets: read until it expires (one window after an upgrade). */
const legacyMapKey = (prefix: string): string => `${prefix}:campaign-message-runs`;

/**
 * The hashes a report arriving at `at` may find its messageId in: this bucket, the previous one and
 * the map of older versions. The delivery-report inbox reads them to tell a known id from an unknown one.
 */
export function messageRunKeys(prefix: string, reportWindowMs: number, at: number): [string, string, string] {
  const bucket = Math.floor(at / windowOf(reportWindowMs));
  return [bucketKey(prefix, bucket), bucketKey(prefix, bucket - 1), legacyMapKey(prefix)];
}

export function createRunProgress(
  redis: Redis,
  prefix: string,
  options: RunProgressOptions = { reportWindowMs: 72 * HOUR, now: () => new Date() },
) {
  const runKey = (run: string) => `${prefix}:campaign-run:${run}`;
  const statusKey = (campaign: string) => `${prefix}:campaign-status:${campaign}`;
  const window = windowOf(options.reportWindowMs);
  const bucketOf = (at: number) => Math.floor(at / window);
  const messageRuns = (bucket: number) => bucketKey(prefix, bucket);
  const legacyMessageRuns = legacyMapKey(prefix);
  const finals = (run: string) => `${prefix}:campaign-run-finals:${run}`;
  // A set, not a counter: a batch written twice (a fan-out re-run after a crash) is pending once.
  const pending = (run: string) => `${prefix}:campaign-run-pending:${run}`;
  /** Every key of one run, the counters first. */
  const keysOf = (run: string) => [
    runKey(run),
    finals(run),
    pending(run),
    `${prefix}:campaign-run-counted:${run}`,
    `${prefix}:campaign-run-added:${run}`,
    `${prefix}:campaign-run-seen:${run}`,
    `${prefix}:campaign-run-plans:${run}`,
  ];
  async function live(run: string): Promise<RunProgress | null> {
    const [raw, batchesPending] = await Promise.all([redis.hgetall(runKey(run)), redis.scard(pending(run))]);
    if (Object.keys(raw).length === 0) return null;
    return {
      ...(Object.fromEntries(PROGRESS_FIELDS.map((field) => [field, Number(raw[field] ?? 0)])) as Record<ProgressField, number>),
      batchesPending,
    };
  }
  return {
    /** The map of versions before the buckets lasts one more window, for the reports of what they sent. */
    expireLegacyMap: async (): Promise<void> => void (await redis.pexpire(legacyMessageRuns, window, 'NX')),
    addPending: async (run: string, batchId: string): Promise<void> => void (await redis.sadd(pending(run), batchId)),
    /**
     * Counts a closed batch, once, atomically, takes it off the pending set and maps its accepted
     * messageIds to the run (so their delivery reports count only once their sends are counted).
     */
    async closeBatch(
      run: string,
      batchId: string,
      counts: Partial<Record<ProgressField, number>>,
      messageIds: readonly string[] = [],
      unknown: ReadonlyArray<{ message: string; subscriber: string }> = [],
    ): Promise<void> {
      const args = Object.entries(counts).filter(([, value]) => value).flatMap(([field, value]) => [field, String(value)]);
      const bucket = bucketOf(options.now().getTime());
      const keys = [
        `${prefix}:campaign-run-counted:${run}`,
        runKey(run),
        pending(run),
        messageRuns(bucket),
        unknownPhonesKey(prefix, bucket),
      ];
      const phones = unknown.flatMap((r) => [r.subscriber, `${run}\n${r.message}`]);
      await redis.eval(
        CLOSE_BATCH,
        keys.length,
        ...keys,
        batchId,
        (bucket + 2) * window,
        run,
        messageIds.length,
        ...messageIds,
        unknown.length,
        ...phones,
        ...args,
      );
    },
    /** For each phone hash, the one recipient counted unknown under it in the report window (null: none, or two). */
    async unknownSendsOf(phones: readonly string[]): Promise<Array<UnknownMatch | null>> {
      if (phones.length === 0) return [];
      const bucket = bucketOf(options.now().getTime());
      const keys = [unknownPhonesKey(prefix, bucket), unknownPhonesKey(prefix, bucket - 1)];
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.hmget(key, ...phones);
      const lists = (await pipeline.exec() ?? []).map(([err, found]) => {
        if (err) throw err;
        return found as Array<string | null>;
      });
      return phones.map((_, i) => {
        const found = keys.flatMap((key, k) => (lists[k]?.[i] ? [{ key, value: lists[k]?.[i] ?? '' }] : []));
        const [only] = found;
        if (!only || found.length > 1 || only.value === '?') return null;
        const [matchRun = '', message = ''] = only.value.split('\n');
        return { ...only, run: matchRun, message };
      });
    },
    /** Links an unknown recipient to the messageId its report names; true once, for the call that moved the counters. */
    async linkUnknown(match: UnknownMatch, phone: string, messageId: string): Promise<boolean> {
      const bucket = bucketOf(options.now().getTime());
      const keys = [match.key, runKey(match.run), messageRuns(bucket)];
      return (await redis.eval(LINK_UNKNOWN, keys.length, ...keys, phone, match.value, messageId, match.run, (bucket + 2) * window)) === 1;
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
    get: async (run: string): Promise<RunProgress> => (await live(run)) ?? noProgress(),
    /** The live counters, or null once they are gone (archived after the report period, or never started). */
    live,
    /** The run has ended: its keys expire `keepMs` after the first call (see END_RUN). Returns that end time. */
    endRun: async (run: string, keepMs: number): Promise<Date> =>
      new Date(Number(await redis.eval(END_RUN, keysOf(run).length, ...keysOf(run), options.now().getTime(), Math.round(keepMs)))),
    /** Drops every key of the run (its figures are in MongoDB by then). */
    forget: async (run: string): Promise<void> => void (await redis.del(...keysOf(run))),
    /** A relative campaign's run walks its audience again at each check (its messages are unique per subscriber). */
    reopenFanOut: async (run: string): Promise<void> => void (await redis.hdel(runKey(run), 'fanoutDone')),
    /** Subscribers already given a batch in this run (relative campaigns walk everyone at each check). */
    async unseen(run: string, subscribers: readonly string[]): Promise<boolean[]> {
      if (subscribers.length === 0) return [];
      return (await redis.smismember(`${prefix}:campaign-run-seen:${run}`, ...subscribers)).map((member) => member === 0);
    },
    /**
     * Marks the subscribers as batched and keeps the batch's plan, in one step; false (nothing done) if
     * one of them was batched already.
     */
    planBatch: async (run: string, batchId: string, subscribers: readonly string[], plan: string): Promise<boolean> =>
      (await redis.eval(
        PLAN_BATCH,
        2,
        `${prefix}:campaign-run-seen:${run}`,
        `${prefix}:campaign-run-plans:${run}`,
        batchId,
        plan,
        ...subscribers,
      )) === 1,
    plans: async (run: string): Promise<string[]> => Object.values(await redis.hgetall(`${prefix}:campaign-run-plans:${run}`)),
    planDone: async (run: string, batchId: string): Promise<void> =>
      void (await redis.hdel(`${prefix}:campaign-run-plans:${run}`, batchId)),
    /** The senders' copy of the status; a final one (completed, cancelled) is kept `keepMs`, then they read MongoDB's. */
    async setStatus(campaign: string, status: string, keepMs?: number): Promise<void> {
      await (keepMs ? redis.set(statusKey(campaign), status, 'PX', Math.round(keepMs)) : redis.set(statusKey(campaign), status));
    },
    status: (campaign: string): Promise<string | null> => redis.get(statusKey(campaign)),
    /** The run of each messageId, null when unknown or sent longer ago than the report window: one round trip. */
    async runsOf(messageIds: readonly string[]): Promise<Array<string | null>> {
      if (messageIds.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const key of messageRunKeys(prefix, window, options.now().getTime())) pipeline.hmget(key, ...messageIds);
      const answers = await pipeline.exec();
      const lists = (answers ?? []).map(([err, found]) => {
        if (err) throw err;
        return found as Array<string | null>;
      });
      return messageIds.map((_, i) => lists.map((list) => list[i]).find((run) => run) ?? null);
    },
    /**
     * Counts the first final report of each message of a run, atomically: a retried batch counts
     * nothing twice. False when the run's counters are gone (archived): nothing was counted.
     */
    async countFinals(run: string, reports: ReadonlyArray<{ messageId: string; status: string }>): Promise<boolean> {
      if (reports.length === 0) return true;
      const [delivered] = (await redis.eval(
        COUNT_FINALS,
        2,
        finals(run),
        runKey(run),
        ...reports.flatMap((report) => [report.messageId, report.status]),
      )) as [number, number];
      return delivered !== -1;
    },
  };
}

export type RunProgressStore = ReturnType<typeof createRunProgress>;
