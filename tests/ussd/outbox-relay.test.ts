import { spawn } from 'node:child_process';
import { createQueueFactory } from '../../src/platform/queues';
import { createRedisConnections } from '../../src/platform/redis';
import type { FlowEventJob } from '../../src/ussd/apply-flow-events';
import { outboxRelayKeys, startOutboxRelay } from '../../src/ussd/outbox-relay';
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

  it('loses and duplicates nothing when a relay is killed between taking a batch and queuing it', async () => {
    const { logger } = captureLogger('warn');
    const redis = createRedisConnections(testServices().redisUrl, logger);
    const prefix = uniqueName('outboxkill');
    const queues = createQueueFactory(redis, prefix);
    const queue = queues.create<FlowEventJob>('relay-test');
    await queue.pause(true);
    const outbox = `${prefix}:outbox`;
    const events: FlowEventJob[] = Array.from({ length: 300 }, (_, i) => ({ eventId: `k${i}:1:0`, sessionId: `k${i}`, phoneHash: '', phoneSealed: '', at: new Date(0).toISOString(), event: { type: 'report.created', reference: `K${i}` } }));
    await redis.client.rpush(outbox, ...events.map((event) => JSON.stringify(event)));

    // A real process takes the first batch (200) and is killed before Bull has it.
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tests/support/outbox-relay-child.ts', testServices().redisUrl, outbox], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('taken') && resolve());
      child.on('exit', (code) => reject(new Error(`relay exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await redis.client.llen(outbox)).toBe(100);
    const relaysLeft = await redis.client.smembers(outboxRelayKeys(outbox).relays);
    expect(relaysLeft).toHaveLength(1);
    expect(await redis.client.llen(outboxRelayKeys(outbox).taken(relaysLeft[0] ?? ''))).toBe(200);

    // Another relay queues the rest at once, and the dead one's batch once its heartbeat has lapsed.
    const relay = startOutboxRelay(redis.client, outbox, queue, logger, { aliveMs: 1_000, recoverEveryMs: 200 });
    const queued = async (): Promise<number> => (await queue.getJobs(['waiting', 'paused'], 0, 1_000)).length;
    for (let i = 0; i < 100 && (await queued()) < 300; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    await relay.stop();
    const jobs = await queue.getJobs(['waiting', 'paused'], 0, 1_000);
    expect(jobs.map((job) => job.id).sort()).toEqual(events.map((event) => event.eventId).sort());
    expect(await redis.client.llen(outbox)).toBe(0);
    expect(await redis.client.keys(`${outbox}:*`)).toEqual([]);
    await queue.obliterate({ force: true });
    await queues.close();
    await redis.close();
  }, 30_000);
});
