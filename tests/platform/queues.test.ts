import { join } from 'node:path';
import type { Job } from 'bull';
import { startRedisServer } from '../../src/dev-services/redis-server';
import { sleep, withTimeout } from '../../src/platform/with-timeout';
import { captureLogger, testServices, uniqueName } from '../support/test-env';
import { createRedisConnections, type RedisConnections } from '../../src/platform/redis';
import { createQueueFactory, processWith, UnrecoverableJobError, type QueueFactory } from '../../src/platform/queues';

interface GreetingPayload {
  [key: string]: string | number;
  phoneHash: string;
  attempt: number;
}

describe('Redis connections and the Bull queue factory (real Redis)', () => {
  let redis: RedisConnections;
  let queues: QueueFactory;

  beforeEach(() => {
    redis = createRedisConnections(testServices().redisUrl, captureLogger().logger);
    queues = createQueueFactory(redis, uniqueName('q'));
  });
  afterEach(async () => {
    await queues.close();
    await redis.close();
  });

  it('shares client and subscriber, and makes a new blocking client each time', () => {
    expect(redis.createBullClient('client')).toBe(redis.client);
    expect(redis.createBullClient('subscriber')).toBe(redis.subscriber);
    const first = redis.createBullClient('bclient');
    const second = redis.createBullClient('bclient');
    expect(first).not.toBe(second);
    expect(first).not.toBe(redis.client);
    expect(first.options.maxRetriesPerRequest).toBeNull();
    expect(first.options.enableReadyCheck).toBe(false);
  });

  it('runs typed plain-JSON jobs on two queues over the shared connections', async () => {
    const a = queues.create<GreetingPayload>('greetings');
    const b = queues.create<GreetingPayload>('farewells');
    expect(queues.create<GreetingPayload>('greetings')).toBe(a);
    const seen: GreetingPayload[] = [];
    const done = new Promise<void>((resolve) => {
      const record = (job: Job<GreetingPayload>): Promise<void> => {
        seen.push(job.data);
        if (seen.length === 2) resolve();
        return Promise.resolve();
      };
      void a.process(record);
      void b.process(record);
    });
    await a.add({ phoneHash: 'h1', attempt: 1 }, { jobId: 'greet-h1' });
    // Same jobId: Bull keeps the first, so a retried enqueue does not duplicate work.
    await a.add({ phoneHash: 'h1', attempt: 2 }, { jobId: 'greet-h1' });
    await b.add({ phoneHash: 'h2', attempt: 1 });
    await done;
    expect(seen.sort((x, y) => x.phoneHash.localeCompare(y.phoneHash))).toEqual([
      { phoneHash: 'h1', attempt: 1 },
      { phoneHash: 'h2', attempt: 1 },
    ]);
    expect((await a.getJobCounts()).waiting).toBe(0);
  });

  it('does not retry a job that throws UnrecoverableJobError, and retries others', async () => {
    const queue = queues.create<{ kind: string }>('fragile');
    let calls = { fatal: 0, flaky: 0 };
    void queue.process(
      processWith((job) => {
        calls = { ...calls, [job.data.kind]: (calls[job.data.kind as 'fatal' | 'flaky'] ?? 0) + 1 };
        if (job.data.kind === 'fatal') return Promise.reject(new UnrecoverableJobError('gateway rejected the credentials'));
        if (calls.flaky < 3) return Promise.reject(new Error('transient'));
        return Promise.resolve();
      }),
    );
    const fatal = await queue.add({ kind: 'fatal' }, { attempts: 5 });
    const flaky = await queue.add({ kind: 'flaky' }, { attempts: 5 });
    await expect(flaky.finished()).resolves.toBeUndefined();
    await expect(fatal.finished()).rejects.toThrow('gateway rejected the credentials');
    expect(calls).toEqual({ fatal: 1, flaky: 3 });
  });
});

describe('closing the queues while Redis is down (its own redis-server)', () => {
  it('lets the job in flight finish and closes without an unhandled rejection', async () => {
    const server = await startRedisServer({ dir: join(testServices().scratch, 'queues-redis-down') });
    const redis = createRedisConnections(server.url, captureLogger().logger);
    const queues = createQueueFactory(redis, uniqueName('q'));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const queue = queues.create<{ n: number }>('slow');
      let finished = false;
      const started = new Promise<void>((resolve) => {
        void queue.process(async () => {
          resolve();
          await sleep(1_500);
          finished = true;
        });
      });
      await queue.add({ n: 1 });
      await started;
      await server.stop();
      // As at shutdown: Bull cannot record the job as completed while Redis is down, so the wait is bounded.
      await withTimeout(queues.close(), 3_000, 'job drain').catch(() => undefined);
      expect(finished).toBe(true);
      await redis.close();
      // Give Bull's reconnect attempts time to settle, as they did when this crashed a shutdown.
      await sleep(1_000);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await redis.close();
      await server.stop();
    }
  });
});
