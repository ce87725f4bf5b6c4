import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startMongoServer, type RunningMongoServer } from '../../src/dev-services/mongo-server';
import { freePort } from '../../src/dev-services/free-port';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { captureLogger, testConfig, testServices } from '../support/test-env';
import { caller } from '../support/ussd-client';

// Its own MongoDB-compatible server, so the test can stop it while a caller confirms.
const services = testServices();
const describeEmbedded = services.mongoBinary ? describe : describe.skip;

describeEmbedded('a caller confirms a callback while MongoDB is down', () => {
  let mongo: RunningMongoServer | undefined;
  let running: RunningSafeline;
  let port: number;
  const startMongo = async () => {
    mongo = await startMongoServer({ storage: { sqliteDir: join(services.scratch, `hotline-down-${port}`) }, port, binaryPath: services.mongoBinary });
  };

  beforeAll(async () => {
    port = await freePort();
    await startMongo();
  });
  afterAll(async () => {
    await running?.stop();
    await mongo?.stop();
  });

  it('still gives the caller a reference code, keeps the request queued, and writes it when MongoDB is back', async () => {
    const config = testConfig({ MONGODB_URI: `mongodb://127.0.0.1:${port}/hotline_down` });
    running = await startSafeline(config, captureLogger('warn').logger, modules);
    await running.infra.mongo.opened;
    const phone = '+22370999001';
    const session = caller(running.url, config.ussd.callbackToken, phone, `ATUid_${randomUUID()}`);
    // The language menu needs no database: choose English while it is still up, so the cache knows the caller.
    await session.dial();
    await session.type('3');

    await mongo?.stop();
    for (const input of ['3', '3', '4']) expect((await session.type(input)).body.startsWith('CON ')).toBe(true);
    const started = Date.now();
    const end = await session.type('1');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(end.body).toMatch(/^END .*Your code: [2-9A-HJKMNP-TV-Z]{6}/);
    const ref = /([2-9A-HJKMNP-TV-Z]{6})$/.exec(end.body)?.[1] ?? '';

    // Down for a few seconds: the event waits in Redis, retried with backoff.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await startMongo();
    const store = createHotlineStore(running.infra.mongo.connection);
    const request = await eventually(() => store.findCallbackRequest(ref).catch(() => undefined), (found) => found !== undefined, 45_000);
    expect(request).toMatchObject({ _id: ref, status: 'new', window: 'evening', language: 'en' });
  }, 90_000);
});
