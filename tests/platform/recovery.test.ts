import { join } from 'node:path';
import { startMongoServer, type RunningMongoServer } from '../../src/dev-services/mongo-server';
import { freePort } from '../../src/dev-services/free-port';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { captureLogger, testConfig, testServices } from '../support/test-env';

interface Readiness {
  status: number;
  down: string[];
}

/** With the metrics token, /readyz names the parts that are down. */
let metricsToken = '';
async function readiness(url: string): Promise<Readiness> {
  const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${metricsToken}` } });
  const body = (await res.json()) as { down?: string[] };
  return { status: res.status, down: body.down ?? [] };
}

/** Polls /readyz until it matches, so the test follows the process's own reconnection. */
async function waitForReadiness(url: string, expected: Readiness, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Readiness | undefined;
  while (Date.now() < deadline) {
    last = await readiness(url);
    if (last.status === expected.status && last.down.join() === expected.down.join()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`readiness stayed ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
}

// This file runs its own MongoDB-compatible server and redis-server so it can stop and restart them.
const services = testServices();
const describeEmbedded = services.mongoBinary ? describe : describe.skip;

describeEmbedded('a process whose MongoDB or Redis goes away', () => {
  let mongoPort: number;
  let redisPort: number;
  let mongo: RunningMongoServer | undefined;
  let redis: RunningRedisServer | undefined;
  let running: RunningSafeline;
  const startMongo = async (): Promise<void> => {
    mongo = await startMongoServer({ storage: { sqliteDir: join(services.scratch, 'recovery-mongo') }, port: mongoPort, binaryPath: services.mongoBinary });
  };
  const startRedis = async (): Promise<void> => {
    redis = await startRedisServer({ port: redisPort, dir: join(services.scratch, 'recovery-redis') });
  };

  beforeAll(async () => {
    mongoPort = await freePort();
    redisPort = await freePort();
  });
  afterAll(async () => {
    await running?.stop();
    await mongo?.stop();
    await redis?.stop();
  });

  it('starts with both down, says which (to the token holder and in the log), and becomes ready when they come up', async () => {
    const log = captureLogger('warn');
    running = await startSafeline(
      testConfig({ MONGODB_URI: `mongodb://127.0.0.1:${mongoPort}/recovery`, REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
      log.logger,
      [],
    );
    metricsToken = running.infra.config.metricsToken ?? '';
    expect(await fetch(`${running.url}/healthz`).then((res) => res.status)).toBe(200);
    expect(await readiness(running.url)).toEqual({ status: 503, down: ['mongodb', 'redis'] });
    // An anonymous caller learns only that it is not ready.
    const anonymous = await fetch(`${running.url}/readyz`);
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({ status: 'unavailable' });
    expect(log.lines().filter((line) => line.includes('readiness: ')).map((line) => (JSON.parse(line) as { part: string }).part).sort()).toEqual(['mongodb', 'redis']);

    await startRedis();
    await waitForReadiness(running.url, { status: 503, down: ['mongodb'] });
    await startMongo();
    await waitForReadiness(running.url, { status: 200, down: [] });
  });

  it('reports MongoDB down while it is stopped and recovers by itself when it returns', async () => {
    const users = running.infra.mongo.connection.collection('probe');
    await users.insertOne({ _id: 'before' } as never);
    await mongo?.stop();
    await waitForReadiness(running.url, { status: 503, down: ['mongodb'] });
    await startMongo();
    await waitForReadiness(running.url, { status: 200, down: [] });
    await users.insertOne({ _id: 'after' } as never);
    expect(await users.countDocuments()).toBe(2);
  });

  it('reports Redis down while it is stopped and recovers by itself when it returns', async () => {
    await redis?.stop();
    await waitForReadiness(running.url, { status: 503, down: ['redis'] });
    await startRedis();
    await waitForReadiness(running.url, { status: 200, down: [] });
    const queue = running.infra.queues.create<{ ok: boolean }>('after-restart');
    await queue.add({ ok: true });
    expect((await queue.getJobCounts()).waiting).toBe(1);
  });
});
