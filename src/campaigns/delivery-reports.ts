import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { COUNT_HITS_LUA, hitArguments, type RateCounter } from '../platform/callback-guard';
import type { Logger } from '../platform/logger';
import { sleep, withTimeout } from '../platform/with-timeout';
import { isFinalDelivery } from './delivery-status';
import { linkUnknownSends } from './link-unknown-sends';
import type { DeliveryReport, MessageStore } from './message-store';
import { messageRunKeys, type RunProgressStore } from './run-progress';

const BATCH = 1_000;
/** How long the first report of a short inbox waits for others before they are written together. */
const GATHER_MS = 1_000;

/** AT's delivery-report fields, as received (already checked for shape). */
export interface ReceivedReport {
  id: string;
  status: string;
  failureReason: string;
  at: string;
  /** Keyed hash of the phone the report names (never the number): links a send recorded unknown back. */
  phone?: string;
}

/** The Redis keys of the delivery-report hand-over (exported for the tests that set up a dead worker's leftovers). */
export const deliveryReportKeys = (prefix: string) => ({
  inbox: `${prefix}:delivery-report-inbox`,
  /** What one applier has taken and not yet written: put back in the inbox if it dies. */
  taken: (applier: string) => `${prefix}:delivery-report-taken:${applier}`,
  /** Present while that applier lives (refreshed by a timer, expires ALIVE_MS after it dies). */
  alive: (applier: string) => `${prefix}:delivery-report-alive:${applier}`,
  appliers: `${prefix}:delivery-report-appliers`,
  /** The single "taken" list of versions before one list per applier. */
  legacyTaken: `${prefix}:delivery-report-taken`,
  /** Reports taken this minute whose messageId was unknown when they arrived (a window counter with a TTL). */
  unknownWindow: `${prefix}:delivery-report-unknown-window`,
  /** Reports refused past that bound: a running total for operators (one integer, kept like delivery-reports-unknown). */
  dropped: `${prefix}:delivery-reports-dropped`,
});
const ALIVE_MS = 15_000;
// Moves up to N reports from the inbox to this applier's "taken" list in one step: an applier
// that dies while writing them leaves them there, and a live one puts them back (applying a
// report twice changes nothing).
const TAKE = `
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
redis.call('RPUSH', KEYS[2], unpack(items))
return items`;
// A dead applier's "taken" list goes back to the head of the inbox, in order, unless it is alive.
const RECOVER = `
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #items, 1, -1 do redis.call('LPUSH', KEYS[2], items[i]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #items`;

// After the sender's rate limit (COUNT_HITS_LUA), in the same step: a report for a messageId a run
// knows is always kept; one for an id unknown on arrival (a report that overtook its send's record,
// an SMS that is not a campaign's, or made up by whoever holds the token) is kept only while the
// minute's count of those is under the bound, so a flood cannot grow the inbox or delivery_reports.
const ACCEPT = `${COUNT_HITS_LUA}
if wait > 0 then return {'rate-limited', wait} end
local inbox, unknown, dropped = KEYS[counters + 1], KEYS[counters + 2], KEYS[counters + 3]
local report, id, bound = ARGV[counters + 3], ARGV[counters + 4], tonumber(ARGV[counters + 5])
local known = false
for i = counters + 4, #KEYS do
  if redis.call('HEXISTS', KEYS[i], id) == 1 then known = true end
end
if bound > 0 and not known then
  -- Only kept reports count: a refused one posted again each second must not hold the window full
  -- (the gateway's retries of our own reports that overtook their send's record would never get in).
  if tonumber(redis.call('GET', unknown) or '0') >= bound then
    redis.call('INCR', dropped)
    return {'unknown-bound', math.max(redis.call('PTTL', unknown), 1)}
  end
  if redis.call('INCR', unknown) == 1 then redis.call('PEXPIRE', unknown, window) end
end
redis.call('RPUSH', inbox, report)
return {'kept', 0}`;

export type AcceptResult =
  | { readonly kept: true }
  | { readonly kept: false; readonly reason: 'rate-limited' | 'unknown-bound'; readonly retryAfterSeconds: number };

/**
 * The api side: keep the report in Redis and answer at once (AT retries what is not acknowledged),
 * in one round trip that also counts the sender's rate limit and bounds reports for unknown ids
 * (`maxUnknownPerMinute`, 0: no bound). A refused report is not kept: the gateway is asked to retry
 * later, by when a genuine report's messageId is known.
 */
export function createDeliveryReportInbox(
  redis: Redis,
  prefix: string,
  options: { maxUnknownPerMinute: number; reportWindowMs: number; now(): Date },
) {
  const keys = deliveryReportKeys(prefix);
  return {
    async accept(report: ReceivedReport, counters: readonly RateCounter[] = []): Promise<AcceptResult> {
      const hits = hitArguments(counters);
      const runKeys = messageRunKeys(prefix, options.reportWindowMs, options.now().getTime());
      const ownKeys = [keys.inbox, keys.unknownWindow, keys.dropped, ...runKeys];
      const ownArgs = [JSON.stringify(report), report.id, options.maxUnknownPerMinute];
      const numKeys = hits.keys.length + ownKeys.length;
      const [outcome, waitMs] = (await redis.eval(ACCEPT, numKeys, ...hits.keys, ...ownKeys, ...hits.args, ...ownArgs)) as [string, number];
      if (outcome === 'kept') return { kept: true };
      const retryAfterSeconds = Math.max(1, Math.ceil(Number(waitMs) / 1_000));
      return { kept: false, reason: outcome === 'rate-limited' ? 'rate-limited' : 'unknown-bound', retryAfterSeconds };
    },
  };
}

/**
 * The worker side: takes reports from the inbox in batches of up to 1,000 and writes them as they
 * came (one document per messageId and status, so a report sent twice is stored once). Counters
 * move only on a message's first final state: a late "Sent" after "Success", or a second final
 * report, changes nothing. A report for an unknown messageId is kept and counted as unknown.
 */
export function startDeliveryReportApplier(deps: {
  redis: Redis;
  prefix: string;
  messages: MessageStore;
  progress: RunProgressStore;
  logger: Logger;
  now(): Date;
  /** A report whose messageId is still unknown after this long is stored and counted as unknown. */
  unknownAfterMs: number;
  /** How often to look for the taken lists of appliers that died (default 15 s). */
  recoverEveryMs?: number;
}): { stop(): Promise<void>; drainOnce(): Promise<number> } {
  let running = true;
  const keys = deliveryReportKeys(deps.prefix);
  const self = randomUUID();
  const taken = keys.taken(self);
  const heartbeat = () =>
    deps.redis
      .multi()
      .set(keys.alive(self), '1', 'PX', ALIVE_MS)
      .sadd(keys.appliers, self)
      .exec()
      .catch(() => undefined);
  const beating = setInterval(() => void heartbeat(), ALIVE_MS / 3);

  /** Puts back what dead appliers had taken (and the list of older versions); returns how many reports. */
  async function recoverDead(): Promise<number> {
    let recovered = 0;
    for (const applier of await deps.redis.smembers(keys.appliers)) {
      if (applier === self) continue;
      const moved = (await deps.redis.eval(
        RECOVER,
        4,
        keys.taken(applier),
        keys.inbox,
        keys.alive(applier),
        keys.appliers,
        applier,
      )) as number;
      if (moved > 0) recovered += moved;
    }
    while ((await deps.redis.lmove(keys.legacyTaken, keys.inbox, 'RIGHT', 'LEFT')) !== null) recovered += 1;
    if (recovered) deps.logger.warn({ recovered }, 'delivery reports taken by a worker that died are back in the inbox');
    return recovered;
  }
  async function drainOnce(): Promise<number> {
    const raw =
      (await withTimeout(deps.redis.eval(TAKE, 2, keys.inbox, taken, BATCH) as Promise<string[]>, 5_000, 'delivery report take')) ?? [];
    if (raw.length === 0) return 0;
    try {
      const reports = raw.flatMap((item) => {
        try {
          return [JSON.parse(item) as ReceivedReport];
        } catch {
          return [];
        }
      });
      // A report naming the phone of a send recorded unknown finds its run that way (once, see linkUnknownSends).
      const runs = await linkUnknownSends(deps, reports, await deps.progress.runsOf(reports.map((report) => report.id)));
      // A report can overtake the send's own record of its messageId (the gateway answers, then
      // reports within milliseconds): keep it for a while, it is tried again on the next drains.
      const now = deps.now().getTime();
      // Put back in the inbox only once the rest is written, in the step that empties our taken list: a
      // failed write gives the whole batch back once, never these twice.
      const early = new Set(reports.filter((report, i) => !runs[i] && now - new Date(report.at).getTime() < deps.unknownAfterMs));
      const docs: DeliveryReport[] = reports.flatMap((report, i) => (early.has(report) ? [] : [{
        _id: `${report.id}:${report.status}`,
        messageId: report.id,
        status: report.status,
        final: isFinalDelivery(report.status),
        failureReason: report.failureReason,
        run: runs[i] ?? null,
        at: new Date(report.at),
      }]));
      // Unknown reports are counted by the write that stored them: a report posted again (or given back
      // after a failed write) is stored once and counted once.
      const stored = new Set(await deps.messages.insertReports(docs));
      // The first doc of each report stored now (a report posted twice is twice in one batch).
      const fresh = docs.filter((doc) => stored.delete(doc._id));
      let unknown = fresh.filter((doc) => !doc.run).length;
      const byRun = new Map<string, Array<{ messageId: string; status: string }>>();
      // Pushed, not copied: a drain of a thousand reports of one run made a thousand ever longer arrays.
      for (const doc of docs) {
        if (!doc.run || !doc.final) continue;
        const finals = byRun.get(doc.run) ?? [];
        if (finals.length === 0) byRun.set(doc.run, finals);
        finals.push({ messageId: doc.messageId, status: doc.status });
      }
      // A run archived after its report period counts nothing more: its late reports are unknown too.
      for (const [run, finals] of byRun) {
        if (!(await deps.progress.countFinals(run, finals))) unknown += fresh.filter((doc) => doc.run === run && doc.final).length;
      }
      if (unknown) {
        await deps.redis.incrby(`${deps.prefix}:delivery-reports-unknown`, unknown);
        deps.logger.warn({ unknown }, 'delivery reports for unknown message ids');
      }
      const done = deps.redis.multi();
      if (early.size) done.rpush(keys.inbox, ...[...early].map((report) => JSON.stringify(report)));
      await done.del(taken).exec();
      return raw.length;
    } catch (err) {
      // Give the batch back to the head of the inbox: nothing is lost, it is tried again.
      await deps.redis.multi().lpush(keys.inbox, ...raw.reverse()).del(taken).exec();
      throw err;
    }
  }
  const loop = (async () => {
    await heartbeat();
    let gatheringSince = 0;
    let recoveredAt = 0;
    while (running) {
      try {
        if (Date.now() - recoveredAt >= (deps.recoverEveryMs ?? ALIVE_MS)) {
          recoveredAt = Date.now();
          await recoverDead();
        }
        // Reports gather until there are a batch's worth or the first has waited GATHER_MS: one
        // insert of a thousand costs the store far less than many small ones, and a person
        // watching the funnel does not see the second.
        const waiting = await deps.redis.llen(keys.inbox);
        const now = Date.now();
        if (waiting === 0 || (waiting < BATCH && now - (gatheringSince ||= now) < GATHER_MS)) {
          if (waiting === 0) gatheringSince = 0;
          await sleep(100);
          continue;
        }
        gatheringSince = 0;
        await drainOnce();
      } catch (err) {
        deps.logger.warn({ err }, 'delivery reports paused');
        await sleep(1_000);
      }
    }
  })();
  return {
    drainOnce,
    async stop() {
      running = false;
      clearInterval(beating);
      // A timer that outlives the loop would hold the process open after shutdown.
      await withTimeout(loop, 5_000, 'delivery reports stop').catch(() => undefined);
      // Gone cleanly: nothing of ours is left taken (a drain cut short by the timeout stays taken
      // and is recovered once our heartbeat has expired).
      const deregister = async () => {
        const left = await deps.redis.llen(taken);
        await (
          left === 0 ? deps.redis.multi().del(keys.alive(self)).srem(keys.appliers, self) : deps.redis.multi().del(keys.alive(self))
        ).exec();
      };
      await withTimeout(deregister(), 1_000, 'delivery reports deregister').catch(() => undefined);
    },
  };
}
