import Queue, { type Job, type JobOptions, type Queue as BullQueue } from 'bull';
import type { RedisConnections } from './redis';

/** Job payloads are plain JSON: what goes into Redis comes back the same, no class instances or Dates. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type TypedQueue<Payload extends JsonObject> = BullQueue<Payload>;
export type TypedJob<Payload extends JsonObject> = Job<Payload>;

/** A job that must not be retried: the processor throws it and Bull marks the job failed at once. */
export class UnrecoverableJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnrecoverableJobError';
  }
}

/**
 * Backoff type "capped": 1 s, 2 s, 4 s... up to 5 minutes between attempts, so a job can outlast a
 * long outage (a MongoDB down for an hour) without its retries piling up.
 */
export const CAPPED_BACKOFF = 'capped';
export const cappedBackoff = (attemptsMade: number): number => Math.min(1_000 * 2 ** Math.max(attemptsMade - 1, 0), 300_000);

/**
 * A worker that dies (SIGKILL, OOM) leaves its jobs locked until the lock lapses; another worker then
 * moves them back to wait. Bull's defaults (a 30 s lock, a check every 30 s) let a killed worker's batches
 * sit for up to a minute, and fail a job for good the second time it is cut off (maxStalledCount 1),
 * so a fan-out killed twice would never finish. Every job here is safe to run again (leases, plans and
 * ids make a second run write nothing twice), so: a 10 s lock, a check every 5 s, and 10 cut-offs allowed.
 */
export const STALLED_JOBS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 10 } as const;

export interface QueueFactory {
  create<Payload extends JsonObject>(name: string, defaultJobOptions?: JobOptions): TypedQueue<Payload>;
  /** Every queue this factory made, for metrics and shutdown. */
  all(): ReadonlyArray<BullQueue>;
  /** Waits for active jobs to finish, then closes every queue. */
  close(): Promise<void>;
}

export function createQueueFactory(redis: RedisConnections, prefix: string): QueueFactory {
  const queues = new Map<string, BullQueue>();
  return {
    create<Payload extends JsonObject>(name: string, defaultJobOptions?: JobOptions): TypedQueue<Payload> {
      const existing = queues.get(name);
      if (existing) return existing as TypedQueue<Payload>;
      const queue = new Queue<Payload>(name, {
        prefix,
        createClient: (type) => redis.createBullClient(type),
        settings: { backoffStrategies: { [CAPPED_BACKOFF]: cappedBackoff }, ...STALLED_JOBS },
        defaultJobOptions: { removeOnComplete: 1_000, removeOnFail: 5_000, ...defaultJobOptions },
      });
      queues.set(name, queue as BullQueue);
      return queue;
    },
    all: () => [...queues.values()],
    async close() {
      const open = [...queues.values()];
      // Bull's own close(false) forces its blocking client to reconnect while it waits for running
      // jobs, and if Redis is down that reconnect rejects where nobody catches it, crashing a
      // shutdown. So: stop taking jobs, wait for the running ones here, then close without Bull's wait.
      await Promise.all(open.map((queue) => queue.pause(true, true).catch(() => undefined)));
      queues.clear();
      await Promise.all(open.map((queue) => Promise.allSettled(runningJobs(queue))));
      // This wait may outlive the shutdown's time limit; once Redis is closed, Bull must not reopen it.
      if (redis.client.status === 'end') {
        // Still stop Bull's own timers (stalled-job checks, retries), which would fire at closed connections.
        for (const queue of open) void (queue as unknown as { _clearTimers?: () => Promise<void> })._clearTimers?.().catch(() => undefined);
        return;
      }
      await Promise.all(open.map((queue) => queue.close(true)));
    },
  };
}

/** Bull 4 keeps one promise per concurrency slot that settles when that slot's current job is done. */
function runningJobs(queue: BullQueue): Array<Promise<unknown>> {
  const { processing } = queue as unknown as { processing?: Record<string, Promise<unknown>> };
  return Object.values(processing ?? {});
}

/**
 * Wraps a processor so that an UnrecoverableJobError skips the remaining attempts
 * (Bull 4 has no built-in notion of it).
 */
export function processWith<Payload extends JsonObject, Result>(
  handler: (job: TypedJob<Payload>) => Promise<Result>,
): (job: TypedJob<Payload>) => Promise<Result> {
  return async (job) => {
    try {
      return await handler(job);
    } catch (err) {
      if (err instanceof UnrecoverableJobError) await job.discard();
      throw err;
    }
  };
}
