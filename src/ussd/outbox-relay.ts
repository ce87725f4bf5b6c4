import type Redis from 'ioredis';
import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import { sleep } from '../platform/with-timeout';
import { FLOW_EVENT_JOB_OPTIONS, flowEventJobId, type FlowEventJob } from './apply-flow-events';

const BATCH = 200;
const IDLE_MS = 100;

/**
 * The hop saves its events in the same Redis transaction as its session (an outbox list), so a
 * reference code shown to a caller always has its event kept. This loop, in the worker, moves them
 * into Bull in batches. A crash between the two steps re-adds the same job ids, which Bull ignores
 * (and the writes behind them are idempotent anyway).
 */
export function startOutboxRelay(redis: Redis, outboxKey: string, queue: TypedQueue<FlowEventJob>, logger: Logger): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const raw = await redis.lrange(outboxKey, 0, BATCH - 1);
        if (raw.length === 0) {
          await sleep(IDLE_MS);
          continue;
        }
        const jobs = raw.map((item) => JSON.parse(item) as FlowEventJob);
        await queue.addBulk(jobs.map((job, index) => ({ data: job, opts: { ...FLOW_EVENT_JOB_OPTIONS, jobId: flowEventJobId(job, index) } })));
        await redis.ltrim(outboxKey, raw.length, -1);
      } catch (err) {
        logger.warn({ err }, 'outbox relay paused');
        await sleep(1_000);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
