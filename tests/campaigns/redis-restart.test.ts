import { join } from 'node:path';
import { createMessageStore } from '../../src/campaigns/message-store';
import { freePort } from '../../src/dev-services/free-port';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import type { RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';
import { fakeGatewayConfig, startWithManager } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { staffClient } from '../support/staff-client';
import { captureLogger, testServices } from '../support/test-env';

/**
 * Redis as deployed (append-only file on) stopped for a second in the middle of a campaign and started
 * again on the same files: queues, leases, counters, the messageId map and the report inbox come back
 * with it, so the campaign ends exactly as without the restart. Delivery reports posted meanwhile get
 * 503 and are posted again by the gateway.
 */
const AUDIENCE = 2_000;
let redis: RunningRedisServer;
let port: number;
let running: RunningSafeline;
let fake: FakeAfricasTalking;
const dir = join(testServices().scratch, `redis-aof-${process.pid}`);
const manager = staffClient(() => running.url);

beforeAll(async () => {
  port = await freePort();
  redis = await startRedisServer({ port, dir, appendOnly: true });
  fake = await startFakeAfricasTalking({ seed: 41 });
  running = await startWithManager(fakeGatewayConfig(fake, { REDIS_URL: redis.url, LOG_LEVEL: 'warn' }), captureLogger('warn').logger);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  fake.deliveryReportsTo(`${running.url}/sms/delivery?token=${running.infra.config.sms.callbackToken}`, { failureRate: 0.2, retryMs: 300 });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await redis?.stop();
  await fake?.close();
});

type Progress = Record<'recipients' | 'sent' | 'failed' | 'unknown' | 'optedOut' | 'cancelled' | 'delivered' | 'failedDelivery', number>;
type View = { status: string; progress: Progress; runs: Array<{ run: string }> };

it('ends a campaign cut by a Redis restart exactly: every recipient sent once, counted once, every report counted', async () => {
  await seedSubscribers(running.infra.mongo.connection, createPhoneProtection(running.infra.config.secrets), {
    from: 8_600_000,
    count: AUDIENCE,
  });
  const body = {
    name: 'redis restart', axis: 'prevention', texts: { fr: 'Un visa promis contre paiement ? C est un piege.' },
    sendWindow: { from: '00:00', to: '00:00' }, spread: { maxPerSecond: 200, finishWithinHours: null },
  };
  const id = String((await manager.call('POST', '/api/v1/campaigns', body)).json._id);
  const view = async (): Promise<View> => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);

  await eventually(() => Promise.resolve(fake.accepted.length), (n) => n >= 600, 30_000);
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  redis = await startRedisServer({ port, dir, appendOnly: true });
  expect(fake.accepted.length).toBeLessThan(AUDIENCE);

  const done = await eventually(() => view().catch(() => undefined), (v) => v?.status === 'completed', 90_000);
  await fake.deliveryReportsSettled();
  const { progress } = await eventually(view, (v) => v.progress.delivered + v.progress.failedDelivery === AUDIENCE, 30_000);
  expect(progress).toMatchObject({ recipients: AUDIENCE, sent: AUDIENCE, failed: 0, unknown: 0, optedOut: 0, cancelled: 0 });
  expect(progress.failedDelivery).toBeGreaterThan(0);
  expect(fake.duplicates()).toEqual([]);
  expect(fake.accepted).toHaveLength(AUDIENCE);
  const results = await createMessageStore(running.infra.mongo.connection).resultsOfRun(done?.runs[0]?.run ?? '');
  expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(AUDIENCE);
}, 180_000);
