import { createMessageStore } from '../../src/campaigns/message-store';
import type { RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { eventually } from '../support/eventually';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';
import { seedSubscribers } from '../support/seed-subscribers';
import { fakeGatewayConfig, startWithManager } from '../support/fake-gateway-env';
import { staffClient } from '../support/staff-client';
import { captureLogger } from '../support/test-env';

const { logger, lines } = captureLogger('info');
let fake: FakeAfricasTalking;
let running: RunningSafeline;
let protection: PhoneProtection;
let smsToken: string;
const manager = staffClient(() => running.url);
const ALWAYS = { from: '00:00', to: '00:00' };

beforeAll(async () => {
  fake = await startFakeAfricasTalking({ transientRate: 0, seed: 7 });
  const config = fakeGatewayConfig(fake, { CAMPAIGN_RETRY_DELAY_MS: '200' });
  smsToken = config.sms.callbackToken;
  running = await startWithManager(config, logger);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  protection = createPhoneProtection(config.secrets);
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await fake?.close();
});

type Progress = { recipients: number; sent: number; delivered: number; failed: number; optedOut: number; unknown: number; cancelled: number; cost: number };
type View = { _id: string; status: string; stoppedReason: string | null; progress: Progress; runs: Array<{ run: string }> };
async function campaign(body: Record<string, unknown>): Promise<View> {
  const created = await manager.call('POST', '/api/v1/campaigns', { axis: 'prevention', sendWindow: ALWAYS, ...body });
  expect(created.status).toBe(200);
  const scheduled = await manager.call('POST', `/api/v1/campaigns/${String(created.json._id)}/schedule`);
  expect(scheduled.status).toBe(200);
  return scheduled.json as unknown as View;
}
const view = async (id: string): Promise<View> => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
const acceptedWith = (text: string) => fake.accepted.filter((sms) => sms.message === text);

it('sends 10,000 recipients through 20 % transient failures with exact counts and no duplicate at the gateway', async () => {
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 1_000_000, count: 10_000, topics: ['migration'] });
  fake.setTransientRate(0.2);
  const text = 'Un emploi trop beau a l etranger ? Verifiez avant de partir. Appelez le 80 00 11 11.';
  const started = await campaign({ name: 'ten thousand', texts: { fr: text }, audience: { topics: ['migration'] } });
  const done = await eventually(() => view(started._id), (v) => v.status === 'completed', 150_000);
  fake.setTransientRate(0);
  expect(done.status).toBe('completed');

  const accepted = acceptedWith(text);
  expect(fake.duplicates()).toEqual([]);
  expect(done.progress.recipients).toBe(10_000);
  expect(done.progress.sent).toBe(accepted.length);
  expect(done.progress.sent + done.progress.failed).toBe(10_000);
  // Transient failures were retried: almost everyone got through (0.2^4 of them fail four times).
  expect(done.progress.failed).toBeLessThan(60);

  const results = await createMessageStore(running.infra.mongo.connection).resultsOfRun(done.runs[0]?.run ?? '');
  expect(results).toHaveLength(10_000);
  expect(new Set(results.map((r) => r.message)).size).toBe(10_000);
  const byOutcome = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.outcome]: (acc[r.outcome] ?? 0) + 1 }), {});
  expect(byOutcome).toEqual({ accepted: accepted.length, ...(done.progress.failed ? { failed: done.progress.failed } : {}) });
  const first = results.find((r) => r.outcome === 'accepted');
  expect(first).toMatchObject({ statusCode: 101, status: 'Success', parts: 1, cost: 20 });
  expect(first?._id).toMatch(/^ATXid_/);
  expect(done.progress.cost).toBe(accepted.length * 20);
}, 180_000);

it('never sends to a number that opts out in the middle of a campaign', async () => {
  const phones = await seedSubscribers(running.infra.mongo.connection, protection, { from: 2_000_000, count: 300, topics: ['law'] });
  const text = 'La loi 2012-023 punit la traite des personnes.';
  const started = await campaign({ name: 'opt-out midway', texts: { fr: text }, audience: { topics: ['law'] }, spread: { maxPerSecond: 20, finishWithinHours: null } });
  await eventually(() => Promise.resolve(acceptedWith(text).length), (n) => n > 0, 10_000);
  // The audience is walked in the server's natural order, here the order the subscribers were
  // written: the last one seeded is in the last batch, which goes 10 s after the first at 20/s, so
  // it is not already at the gateway (a message there could not be stopped).
  const stopper = phones[phones.length - 1] ?? '';
  expect(fake.sentCount(stopper)).toBe(0);
  const stop = await fetch(`${running.url}/sms/inbound?token=${smsToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ from: stopper, to: '321', text: 'Arrêt', id: 'inbound-stop-1', date: new Date().toISOString() }) });
  expect(stop.status).toBe(200);
  expect(await stop.json()).toEqual({ action: 'stop' });
  const done = await eventually(() => view(started._id), (v) => v.status === 'completed', 60_000);
  // The campaign's text never reached the number; the only SMS it got is the STOP confirmation.
  expect(acceptedWith(text).filter((sms) => sms.number === stopper)).toEqual([]);
  await eventually(() => Promise.resolve(fake.accepted.filter((sms) => sms.number === stopper).length), (n) => n > 0);
  expect(fake.accepted.filter((sms) => sms.number === stopper).map((sms) => sms.message)).toEqual(['Vous ne recevrez plus nos messages. Envoyez OUI pour vous réinscrire.']);
  const results = await createMessageStore(running.infra.mongo.connection).resultsOfRun(done.runs[0]?.run ?? '');
  expect(results.find((r) => r.subscriber === protection.hash(stopper))?.outcome).toBe('opted_out');
  expect(done.progress).toMatchObject({ recipients: 300, optedOut: 1, sent: 299 });
});

it('pauses and cancels within 5 seconds, and resumes where it stopped', async () => {
  const phones = await seedSubscribers(running.infra.mongo.connection, protection, { from: 3_000_000, count: 500, topics: ['children'] });
  const text = 'Un enfant qui mendie pour un maitre est une victime.';
  const started = await campaign({ name: 'pause and resume', texts: { fr: text }, audience: { topics: ['children'] }, spread: { maxPerSecond: 25, finishWithinHours: null } });
  await eventually(() => Promise.resolve(acceptedWith(text).length), (n) => n > 0, 10_000);
  expect((await manager.call('POST', `/api/v1/campaigns/${started._id}/pause`)).json.status).toBe('paused');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const atFive = acceptedWith(text).length;
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  expect(acceptedWith(text).length).toBe(atFive);
  expect(atFive).toBeLessThan(500);

  expect((await manager.call('POST', `/api/v1/campaigns/${started._id}/resume`)).json.status).toBe('running');
  const done = await eventually(() => view(started._id), (v) => v.status === 'completed', 60_000);
  expect(done.progress.sent).toBe(500);
  expect(phones.every((phone) => fake.sentCount(phone) === 1)).toBe(true);

  await seedSubscribers(running.infra.mongo.connection, protection, { from: 4_000_000, count: 500, topics: ['help'] });
  const other = 'Besoin d aide ? Composez le *321#.';
  const cancelled = await campaign({ name: 'cancelled', texts: { fr: other }, audience: { topics: ['help'] }, spread: { maxPerSecond: 25, finishWithinHours: null } });
  await eventually(() => Promise.resolve(acceptedWith(other).length), (n) => n > 0, 10_000);
  expect((await manager.call('POST', `/api/v1/campaigns/${cancelled._id}/cancel`)).json.status).toBe('cancelled');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const afterCancel = acceptedWith(other).length;
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(acceptedWith(other).length).toBe(afterCancel);
  const final = await eventually(() => view(cancelled._id), (v) => v.progress.sent + v.progress.cancelled === 500, 30_000);
  expect(final.progress.sent + final.progress.cancelled).toBe(500);
}, 120_000);

it('stops the campaign with the reason shown when the gateway refuses the credentials (401)', async () => {
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 5_000_000, count: 50, topics: ['recruiters'], region: 'kayes' });
  fake.respondNext({ kind: 'status', status: 401, body: 'The supplied authentication is invalid', contentType: 'text/plain' }, 1);
  const text = 'Un recruteur qui garde vos papiers vous trompe.';
  const started = await campaign({ name: 'bad key', texts: { fr: text }, audience: { regions: ['kayes'] } });
  const stopped = await eventually(() => view(started._id), (v) => v.status === 'paused', 15_000);
  expect(stopped.stoppedReason).toContain('credentials');
  expect(acceptedWith(text)).toHaveLength(0);
  await manager.call('POST', `/api/v1/campaigns/${started._id}/resume`);
  const done = await eventually(() => view(started._id), (v) => v.status === 'completed', 30_000);
  expect(done.progress.sent).toBe(50);
});

it('logs no phone number and no message text', () => {
  const log = lines().join('\n');
  expect(log).toContain('campaign fan-out done');
  expect(log).not.toMatch(/\+2237\d{7}/);
  expect(log).not.toContain('Un emploi trop beau');
});
