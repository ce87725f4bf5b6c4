import type Redis from 'ioredis';
import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import { sleep, withTimeout } from '../platform/with-timeout';
import { FLOW_EVENT_JOB_OPTIONS, flowEventJobId, type FlowEventJob } from './apply-flow-events';

const BATCH = 200;
const IDLE_MS = 100;

/**
 * The hop saves its events in the same Redis transaction as its session (an outbox list), so a
 * reference code shown to a caller always has its event kept. This loop, in the worker, moves them
 * into Bull in batches. Each batch is claimed atomically (LPOP with a count), so several workers
 * never take the same items; if Bull refuses them they go back to the head of the list. Only a
 * process dying between the pop and the add can lose a batch.
 */
export function startOutboxRelay(redis: Redis, outboxKey: string, queue: TypedQueue<FlowEventJob>, logger: Logger): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        // Bounded: while Redis is away the shared client would hold the command until it returns.
        const raw = (await withTimeout(redis.lpop(outboxKey, BATCH), 2_000, 'outbox pop')) ?? [];
        if (raw.length === 0) {
          await sleep(IDLE_MS);
          continue;
        }
        const jobs = raw.flatMap((item) => {
          try {
            return [JSON.parse(item) as FlowEventJob];
          } catch {
            logger.error('unreadable item dropped from the ussd outbox');
            return [];
          }
        });
        try {
          await withTimeout(queue.addBulk(jobs.map((job) => ({ data: job, opts: { ...FLOW_EVENT_JOB_OPTIONS, jobId: flowEventJobId(job) } }))), 5_000, 'outbox relay');
        } catch (err) {
          await withTimeout(redis.lpush(outboxKey, ...raw.reverse()), 2_000, 'outbox give back').catch(() => logger.error({ events: raw.length }, 'outbox batch lost: Redis refused it back'));
          throw err;
        }
      } catch (err) {
        logger.warn({ err }, 'outbox relay paused');
        await sleep(1_000);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      // A timer that outlives the loop would hold the process open after shutdown.
      await withTimeout(loop, 2_500, 'outbox relay stop').catch(() => undefined);
    },
  };
}
