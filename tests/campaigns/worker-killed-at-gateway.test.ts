import type { ChildProcess } from 'node:child_process';
import { parseConfig, type Environment } from '../../src/config/config';
import { createMessageStore } from '../../src/campaigns/message-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { eventually } from '../support/eventually';
import { productionArtifact, startArtifact, type StartedArtifact } from '../support/production-artifact';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';
import { seedSubscribers } from '../support/seed-subscribers';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testEnvironment } from '../support/test-env';

/**
 * Workers as deployed (the production artifact, `node dist/main.js worker`) killed with SIGKILL at
 * chosen points: the first while the gateway (a fake over real HTTP) has accepted a batch and holds its
 * answer, so no answer survives; the next one as soon as it says it reconciles that batch. A third
 * finishes. The gateway's delivery reports (messageId and phone) come to the api meanwhile. After
 * recovery every recipient has one outcome, the counters add up, and the sends recorded unknown have
 * turned sent by their reports: nothing sent twice, nothing left untracked.
 */
let fake: FakeAfricasTalking;
let api: RunningSafeline;
let env: Environment;
const workers: StartedArtifact[] = [];
const manager = staffClient(() => api.url);

async function startWorker(): Promise<StartedArtifact> {
  const worker = await startArtifact('worker', { ...env, PORT: '0' });
  workers.push(worker);
  return worker;
}
const kill = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'));

beforeAll(async () => {
  fake = await startFakeAfricasTalking({ latencyMs: 20 });
  // A short send timeout makes the dead worker's batch lease lapse in 14 s rather than 30; reports for ids not yet
  // known wait 4 minutes for their send's record (two recoveries of about a minute each come first).
  env = testEnvironment({ LOG_LEVEL: 'warn', SMS_GATEWAY: 'africastalking', AT_USERNAME: fake.username, AT_API_KEY: fake.apiKey, AT_BASE_URL: fake.url, SMS_MAX_PER_SECOND: '100000', SMS_SEND_TIMEOUT_MS: '2000', SHUTDOWN_TIMEOUT_MS: '3000', DELIVERY_REPORT_UNKNOWN_AFTER_MS: '240000' }, 'atgateway');
  api = await startSafeline(parseConfig({ ...env, SAFELINE_ROLE: 'api' }), captureLogger('warn').logger, modules);
  await api.infra.mongo.opened;
  await createStaff(createStaffStore(api.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  fake.deliveryReportsTo(`${api.url}/sms/delivery?token=${api.infra.config.sms.callbackToken}`, { failureRate: 0.1 });
  await productionArtifact();
}, 240_000);
afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await api?.stop();
  await fake?.close();
});

type Progress = { recipients: number; sent: number; delivered: number; failedDelivery: number; failed: number; optedOut: number; cancelled: number; unknown: number };
type View = { status: string; progress: Progress; runs: Array<{ run: string }> };

it('loses no tracking when workers are killed with the gateway holding its answer and mid-reconcile', async () => {
  const protection = createPhoneProtection(parseConfig(env).secrets);
  await seedSubscribers(api.infra.mongo.connection, protection, { from: 6_100_000, count: 500 });
  const held = fake.holdNext(2);
  const first = await startWorker();
  const created = await manager.call('POST', '/api/v1/campaigns', { name: 'killed at the gateway', axis: 'prevention', texts: { fr: 'Ne donnez jamais vos papiers a un recruteur.' }, sendWindow: { from: '00:00', to: '00:00' }, spread: { maxPerSecond: 200, finishWithinHours: null } });
  const id = String(created.json._id);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);

  // The gateway has taken the third batch (its reports are on their way) and not answered: kill now.
  const taken = await held.arrived;
  await kill(first.child);
  held.release();
  const second = await startWorker();
  // Killed again as soon as it says it reconciles the cut-off batch.
  await eventually(() => Promise.resolve(second.output()), (out) => out.includes('batch was cut off mid-send'), 90_000);
  await kill(second.child);
  await startWorker();

  const view = async () => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  const done = await eventually(view, (v) => v.status === 'completed', 120_000);
  expect(done.progress.recipients).toBe(500);
  // The reports of the batch nobody recorded name its phones: its unknowns become sent.
  const settled = await eventually(view, (v) => v.progress.unknown === 0 && v.progress.delivered + v.progress.failedDelivery === 500, 60_000);
  const p = settled.progress;
  expect(p.sent + p.failed + p.unknown + p.optedOut + p.cancelled).toBe(p.recipients);
  expect(p.delivered + p.failedDelivery).toBeLessThanOrEqual(p.sent);
  expect(p).toMatchObject({ sent: 500, unknown: 0, failed: 0 });
  expect(fake.duplicates()).toEqual([]);
  expect(fake.accepted).toHaveLength(500);

  const results = await createMessageStore(api.infra.mongo.connection).resultsOfRun(done.runs[0]?.run ?? '');
  expect(results).toHaveLength(500);
  expect(new Set(results.map((r) => r.subscriber)).size).toBe(500);
  expect(results.every((r) => r.outcome === 'accepted')).toBe(true);
  // The held batch's recipients were linked back under the messageIds the gateway gave them.
  const heldIds = new Set(fake.accepted.filter((sms) => taken.to.includes(sms.number)).map((sms) => sms.messageId));
  expect(results.filter((r) => r.messageId && heldIds.has(r.messageId))).toHaveLength(taken.to.length);
}, 330_000);
