import { join } from 'node:path';
import { deliveryReportKeys, startDeliveryReportApplier } from '../../src/campaigns/delivery-reports';
import { createMessageStore } from '../../src/campaigns/message-store';
import { createRunProgress } from '../../src/campaigns/run-progress';
import { freePort } from '../../src/dev-services/free-port';
import { startMongoServer, type RunningMongoServer } from '../../src/dev-services/mongo-server';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/**
 * Delivery reports for messageIds nobody knows, posted over real HTTP as a gateway on a bad day
 * would: repeated, and taken by a worker while the store is down (its own MongoDB-compatible server,
 * really stopped), so the batch's write fails and is given back. Each distinct report is counted
 * once, and the inbox never holds one report twice.
 */
const services = testServices();
const describeEmbedded = services.mongoBinary ? describe : describe.skip;

describeEmbedded('delivery reports for unknown message ids', () => {
  let mongo: RunningMongoServer | undefined;
  let running: RunningSafeline;
  let port: number;
  const startMongo = async () => {
    mongo = await startMongoServer({ storage: { sqliteDir: join(services.scratch, `unknown-reports-${port}`) }, port, binaryPath: services.mongoBinary });
  };
  beforeAll(async () => {
    port = await freePort();
    await startMongo();
    running = await startSafeline(testConfig({ MONGODB_URI: `mongodb://127.0.0.1:${port}/unknown_reports`, SAFELINE_ROLE: 'api' }), captureLogger('warn').logger, modules);
    await running.infra.mongo.opened;
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await mongo?.stop();
  });

  const postOnce = (id: string, status: string) =>
    fetch(`${running.url}/sms/delivery?token=${running.infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ id, status }) });
  // Until the callbacks' Redis connection is up the route answers 503, and a gateway sends again.
  const post = (id: string, status: string) => eventually(() => postOnce(id, status), (res) => res.status !== 503, 5_000);
  const applier = (unknownAfterMs: number) => {
    const { redis, config } = { redis: running.infra.redis.client, config: running.infra.config };
    return startDeliveryReportApplier({ redis, prefix: config.queuePrefix, messages: createMessageStore(running.infra.mongo.connection), progress: createRunProgress(redis, config.queuePrefix), logger: captureLogger('warn').logger, now: () => new Date(), unknownAfterMs });
  };
  /** Every report waiting, in the inbox or taken by an applier. */
  const waiting = async (): Promise<string[]> => {
    const redis = running.infra.redis.client;
    const keys = deliveryReportKeys(running.infra.config.queuePrefix);
    const taken = await redis.keys(keys.taken('*'));
    const lists = await Promise.all([keys.inbox, ...taken].map((key) => redis.lrange(key, 0, -1)));
    return lists.flat().map((item) => (JSON.parse(item) as { id: string }).id);
  };

  it('gives a batch back once when its write fails: reports still waiting for their id are never in the inbox twice', async () => {
    // Not yet known, and young: they wait in the inbox for their send's record.
    for (const id of ['ATXid_early_1', 'ATXid_early_2', 'ATXid_early_3']) expect((await post(id, 'Success')).status).toBe(200);
    // And one that has waited long enough to be written as unknown (taken with them, so there is a write to fail).
    const inbox = deliveryReportKeys(running.infra.config.queuePrefix).inbox;
    await running.infra.redis.client.rpush(inbox, JSON.stringify({ id: 'ATXid_waited_long', status: 'Success', failureReason: '', at: new Date(Date.now() - 600_000).toISOString() }));
    await mongo?.stop();
    const worker = applier(120_000);
    // A few drains fail while the store is away (each after the driver's 3 s wait for a server).
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await startMongo();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await worker.stop();
    expect((await waiting()).sort()).toEqual(['ATXid_early_1', 'ATXid_early_2', 'ATXid_early_3']);
    const reports = running.infra.mongo.connection.collection('delivery_reports');
    expect(await reports.countDocuments({ messageId: 'ATXid_waited_long' })).toBe(1);
    await running.infra.redis.client.del(inbox);
  }, 60_000);

  it('counts each distinct unknown report once, however often it is posted', async () => {
    const redis = running.infra.redis.client;
    const counter = `${running.infra.config.queuePrefix}:delivery-reports-unknown`;
    const before = Number(await redis.get(counter));
    const ids = ['ATXid_made_up_1', 'ATXid_made_up_2', 'ATXid_made_up_3', 'ATXid_made_up_4'];
    // Four messages, each reported Success three times and Failed once: eight distinct reports, sixteen posts.
    for (let round = 0; round < 3; round += 1) for (const id of ids) expect((await post(id, 'Success')).status).toBe(200);
    for (const id of ids) expect((await post(id, 'Failed')).status).toBe(200);
    for (const id of ids.slice(0, 2)) expect((await post(id, 'Failed')).status).toBe(200);
    const worker = applier(0);
    const reports = running.infra.mongo.connection.collection('delivery_reports');
    expect(await eventually(() => reports.countDocuments({ messageId: { $in: ids } }), (n) => n === 8, 15_000)).toBe(8);
    await eventually(async () => (await waiting()).length, (n) => n === 0, 10_000);
    await worker.stop();
    expect(Number(await redis.get(counter)) - before).toBe(8);
  }, 30_000);
});
