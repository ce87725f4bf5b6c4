import type Redis from 'ioredis';
import type { Logger } from '../platform/logger';
import { sleep, withTimeout } from '../platform/with-timeout';
import { isFinalDelivery } from './delivery-status';
import type { DeliveryReport, MessageStore } from './message-store';
import type { RunProgressStore } from './run-progress';

const BATCH = 1_000;
/** How long the first report of a short inbox waits for others before they are written together. */
const GATHER_MS = 1_000;

/** AT's delivery-report fields, as received (already checked for shape). */
export interface ReceivedReport {
  id: string;
  status: string;
  failureReason: string;
  at: string;
}

const inboxKey = (prefix: string) => `${prefix}:delivery-report-inbox`;
const takenKey = (prefix: string) => `${prefix}:delivery-report-taken`;
// Moves up to N reports from the inbox to the "taken" list in one step: a worker that dies while
// applying them leaves them there, and the next worker to start puts them back (applying a report
// twice changes nothing).
const TAKE = `
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
redis.call('RPUSH', KEYS[2], unpack(items))
return items`;

/** The api side: keep the report in Redis and answer at once (AT retries what is not acknowledged). */
export function createDeliveryReportInbox(redis: Redis, prefix: string) {
  return {
    async accept(report: ReceivedReport): Promise<void> {
      await redis.rpush(inboxKey(prefix), JSON.stringify(report));
    },
  };
}

/**
 * The worker side: takes reports from the inbox in batches of up to 1,000 and writes them as they
 * came (one document per messageId and status, so a report sent twice is stored once). Counters
 * move only on a message's first final state: a late "Sent" after "Success", or a second final
 * report, changes nothing. A report for an unknown messageId is kept and counted as unknown.
 */
export function startDeliveryReportApplier(deps: { redis: Redis; prefix: string; messages: MessageStore; progress: RunProgressStore; logger: Logger; now(): Date; /** A report whose messageId is still unknown after this long is stored and counted as unknown. */ unknownAfterMs: number }): { stop(): Promise<void>; drainOnce(): Promise<number> } {
  let running = true;
  async function drainOnce(): Promise<number> {
    const raw = (await withTimeout(deps.redis.eval(TAKE, 2, inboxKey(deps.prefix), takenKey(deps.prefix), BATCH) as Promise<string[]>, 5_000, 'delivery report take')) ?? [];
    if (raw.length === 0) return 0;
    try {
      const reports = raw.flatMap((item) => {
        try {
          return [JSON.parse(item) as ReceivedReport];
        } catch {
          return [];
        }
      });
      const runs = await deps.progress.runsOf(reports.map((report) => report.id));
      // A report can overtake the send's own record of its messageId (the gateway answers, then
      // reports within milliseconds): keep it for a while, it is tried again on the next drains.
      const now = deps.now().getTime();
      const early = reports.filter((report, i) => !runs[i] && now - new Date(report.at).getTime() < deps.unknownAfterMs);
      if (early.length) await deps.redis.rpush(inboxKey(deps.prefix), ...early.map((report) => JSON.stringify(report)));
      const docs: DeliveryReport[] = reports.flatMap((report, i) => (early.includes(report) ? [] : [{
        _id: `${report.id}:${report.status}`,
        messageId: report.id,
        status: report.status,
        final: isFinalDelivery(report.status),
        failureReason: report.failureReason,
        run: runs[i] ?? null,
        at: new Date(report.at),
      }]));
      await deps.messages.insertReports(docs);
      const unknown = docs.filter((doc) => !doc.run).length;
      const byRun = new Map<string, Array<{ messageId: string; status: string }>>();
      for (const doc of docs) if (doc.run && doc.final) byRun.set(doc.run, [...(byRun.get(doc.run) ?? []), { messageId: doc.messageId, status: doc.status }]);
      for (const [run, finals] of byRun) await deps.progress.countFinals(run, finals);
      if (unknown) {
        await deps.redis.incrby(`${deps.prefix}:delivery-reports-unknown`, unknown);
        deps.logger.warn({ unknown }, 'delivery reports for unknown message ids');
      }
      await deps.redis.del(takenKey(deps.prefix));
      return raw.length;
    } catch (err) {
      // Give the batch back to the head of the inbox: nothing is lost, it is tried again.
      await deps.redis.multi().lpush(inboxKey(deps.prefix), ...raw.reverse()).del(takenKey(deps.prefix)).exec();
      throw err;
    }
  }
  const loop = (async () => {
    // Reports taken by a worker that died before applying them.
    while (running && (await deps.redis.lmove(takenKey(deps.prefix), inboxKey(deps.prefix), 'RIGHT', 'LEFT').catch(() => null)) !== null);
    let gatheringSince = 0;
    while (running) {
      try {
        // Reports gather until there are a batch's worth or the first has waited GATHER_MS: one
        // insert of a thousand costs the store far less than many small ones, and a person
        // watching the funnel does not see the second.
        const waiting = await deps.redis.llen(inboxKey(deps.prefix));
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
      // A timer that outlives the loop would hold the process open after shutdown.
      await withTimeout(loop, 5_000, 'delivery reports stop').catch(() => undefined);
    },
  };
}
