import { createQueueFactory } from '../../src/platform/queues';
import { createRedisConnections } from '../../src/platform/redis';
import type { FlowEventJob } from '../../src/ussd/apply-flow-events';
import { startOutboxRelay } from '../../src/ussd/outbox-relay';
import { captureLogger, testServices, uniqueName } from '../support/test-env';

describe('the outbox relay', () => {
  it('moves every event into Bull exactly once, even with two workers relaying at the same time', async () => {
    const { logger } = captureLogger('warn');
    const redis = createRedisConnections(testServices().redisUrl, logger);
    const prefix = uniqueName('outbox');
    const queues = createQueueFactory(redis, prefix);
    const queue = queues.create<FlowEventJob>('relay-test');
    await queue.pause(true);
    const outbox = `${prefix}:outbox`;
    const events: FlowEventJob[] = Array.from({ length: 400 }, (_, i) => ({ eventId: `s${i}:1:0`, sessionId: `s${i}`, phoneHash: '', phoneSealed: '', at: new Date(0).toISOString(), event: { type: 'report.created', reference: `R${i}` } }));
    await redis.client.rpush(outbox, ...events.map((event) => JSON.stringify(event)));

    const relays = [startOutboxRelay(redis.client, outbox, queue, logger), startOutboxRelay(redis.client, outbox, queue, logger)];
    const queued = async (): Promise<number> => (await queue.getJobs(['waiting', 'paused'], 0, 1_000)).length;
    for (let i = 0; i < 100 && ((await redis.client.llen(outbox)) > 0 || (await queued()) < 400); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(relays.map((relay) => relay.stop()));
    const jobs = await queue.getJobs(['waiting', 'paused'], 0, 1_000);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(400);
    expect(await redis.client.llen(outbox)).toBe(0);
    await queue.obliterate({ force: true });
    await queues.close();
    await redis.close();
  });
});
