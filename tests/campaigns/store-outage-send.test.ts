import { join } from 'node:path';
import { createMessageStore } from '../../src/campaigns/message-store';
import { freePort } from '../../src/dev-services/free-port';
import { startMongoServer, type RunningMongoServer } from '../../src/dev-services/mongo-server';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import type { RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';
import { fakeGatewayConfig, startWithManager } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { staffClient } from '../support/staff-client';
import { captureLogger, testServices } from '../support/test-env';

/**
 * The MongoDB-compatible server really stopped for a few seconds while a batch is at the gateway: the
 * gateway (a fake over real HTTP) holds its answer until the store is down, so every write after the
 * answer fails and the send job is retried by Bull. An outage shorter than the job's retry budget
 * (six attempts, 2 s doubling) must cost nothing: no "unknown", nothing sent twice, every
 * recipient counted once, and whoever the gateway refused for a while (or the whole call) sent later.
 */
const services = testServices();
const describeEmbedded = services.mongoBinary ? describe : describe.skip;

describeEmbedded('a store outage while a batch is at the gateway', () => {
  let mongo: RunningMongoServer | undefined;
  let running: RunningSafeline;
  let fake: FakeAfricasTalking;
  let port: number;
  const manager = staffClient(() => running.url);
  const startMongo = async () => {
    mongo = await startMongoServer({ storage: { sqliteDir: join(services.scratch, `store-outage-${port}`) }, port, binaryPath: services.mongoBinary });
  };
  beforeAll(async () => {
    port = await freePort();
    await startMongo();
    fake = await startFakeAfricasTalking({ seed: 31 });
    running = await startWithManager(fakeGatewayConfig(fake, { MONGODB_URI: `mongodb://127.0.0.1:${port}/store_outage`, LOG_LEVEL: 'warn' }), captureLogger('warn').logger);
    expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await mongo?.stop();
    await fake?.close();
  });

  type View = { status: string; progress: { recipients: number; sent: number; failed: number; optedOut: number; cancelled: number; unknown: number }; runs: Array<{ run: string }> };

  /** Schedules a campaign to `region`; when its call reaches the gateway the store goes down, then the answer is given. */
  async function sendThroughOutage(region: string, text: string): Promise<{ view: View; outcomes: string[] }> {
    const held = fake.holdNext();
    const created = await manager.call('POST', '/api/v1/campaigns', { name: `outage ${region}`, axis: 'prevention', texts: { fr: text }, audience: { regions: [region] }, sendWindow: { from: '00:00', to: '00:00' } });
    const id = String(created.json._id);
    expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
    await held.arrived;
    await mongo?.stop();
    held.release();
    // Down longer than the driver waits for a server (3 s), so the writes after the answer really fail.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    await startMongo();
    const view = await eventually(async () => (await manager.call('GET', `/api/v1/campaigns/${id}`).catch(() => ({ json: {} }))).json as unknown as View, (v) => v.status === 'completed', 60_000);
    const results = await createMessageStore(running.infra.mongo.connection).resultsOfRun(view.runs[0]?.run ?? '');
    return { view, outcomes: results.map((r) => r.outcome).sort() };
  }

  it('writes what the gateway answered once the store is back, and sends the recipients it refused for a while later', async () => {
    const protection = createPhoneProtection(running.infra.config.secrets);
    const phones = await seedSubscribers(running.infra.mongo.connection, protection, { from: 8_300_000, count: 4, region: 'gao' });
    const refused = phones[3] ?? '';
    fake.statusFor(refused, (_, attempt) => (attempt === 1 ? 500 : 101));
    const { view, outcomes } = await sendThroughOutage('gao', 'Un contrat se lit avant de partir.');
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(view.progress).toMatchObject({ recipients: 4, sent: 4, failed: 0, unknown: 0 });
    expect(fake.duplicates()).toEqual([]);
    // Refused once (500, never sent), then sent by the retry batch.
    expect(fake.attempts(refused)).toBe(2);
    expect(fake.sentCount(refused)).toBe(1);
  }, 90_000);

  it('sends a batch whose whole call the gateway refused while the store was down, instead of marking it unknown', async () => {
    const protection = createPhoneProtection(running.infra.config.secrets);
    const phones = await seedSubscribers(running.infra.mongo.connection, protection, { from: 8_300_100, count: 3, region: 'tessalit' });
    fake.respondNext({ kind: 'status', status: 500 });
    const { view, outcomes } = await sendThroughOutage('tessalit', 'Votre passeport reste avec vous.');
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted']);
    expect(view.progress).toMatchObject({ recipients: 3, sent: 3, failed: 0, unknown: 0 });
    for (const phone of phones) expect(fake.sentCount(phone)).toBe(1);
  }, 90_000);
});
