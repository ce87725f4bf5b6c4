import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createHotlineStore, type HotlineStore } from '../../src/hotline/hotline-store';
import { hotlineFigures } from '../../src/hotline/hotline-figures';
import { purgeClosedRequests } from '../../src/hotline/purge-closed-requests';
import { recordCallbackRequest } from '../../src/hotline/record-callback-request';
import { createLocks } from '../../src/platform/redis-lock';
import { createAlertBudget } from '../../src/hotline/alert-budget';
import { createDutyRota } from '../../src/hotline/duty-rota';
import { createCallbackWork } from '../../src/hotline/work-callback-request';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createAuditLog } from '../../src/staff/audit-log';
import { loadTexts } from '../../src/texts/texts';
import { captureLogger, testConfig } from '../support/test-env';

const DAY = 86_400_000;
let running: RunningSafeline;
let store: HotlineStore;
let clock = new Date('2026-01-05T09:00:00Z');
const now = () => clock;

beforeAll(async () => {
  running = await startSafeline(testConfig(), captureLogger('warn').logger, []);
  await running.infra.mongo.opened;
  store = createHotlineStore(running.infra.mongo.connection);
});
afterAll(() => running.stop());

it('erases the numbers and notes of requests closed more than N days ago, and keeps their figures', async () => {
  const { infra } = running;
  const protection = createPhoneProtection(infra.config.secrets);
  const withLock = createLocks(infra.redis.client, infra.config.queuePrefix);
  const audit = createAuditLog(infra.mongo.connection, now);
  const intake = { store, rota: createDutyRota(infra.mongo.connection), withLock, alertBudget: createAlertBudget(infra.redis.client, infra.config.queuePrefix, 20), queueSms: () => Promise.resolve(), texts: loadTexts('templates'), freshCode: () => Promise.resolve('FRESH2'), joinWindowHours: 24, now, logger: infra.logger };
  const work = createCallbackWork({ store, withLock, protection, audit, now });
  const agent = { id: 'agent-1', name: 'Awa', isAdmin: false };
  const request = (reference: string, phone: string) => ({ reference, eventKey: `test:${reference}:${phone}`, phoneHash: protection.hash(phone), phoneSealed: protection.encrypt(phone), language: 'fr', window: 'morning', topic: 'case', urgency: 'normal', region: 'kayes', confirmBySms: false, channel: 'ussd' as const });

  // Three requests: one closed long ago, one closed recently, one still open.
  for (const [reference, phone] of [['OLD222', '+22370000201'], ['NEW333', '+22370000202'], ['OPEN44', '+22370000203']] as const) {
    await recordCallbackRequest(intake, request(reference, phone), clock);
  }
  for (const reference of ['OLD222', 'NEW333']) {
    await work.claim(reference, agent, '');
    await work.logAttempt(reference, agent, '', { outcome: 'reached', note: 'She lives near the market.' });
    if (reference === 'OLD222') await work.close(reference, agent, '', { outcome: 'referred_police', note: 'Referred, named the recruiter.' });
  }
  clock = new Date(clock.getTime() + 85 * DAY);
  await work.close('NEW333', agent, '', { outcome: 'information_given', note: 'ok' });

  clock = new Date(clock.getTime() + 6 * DAY); // OLD222 closed 91 days ago, NEW333 6 days ago
  const purged = await purgeClosedRequests({ store, withLock, now, logger: infra.logger }, 90);
  expect(purged).toBe(1);

  const old = await store.findCallbackRequest('OLD222');
  expect(old).toMatchObject({ phoneSealed: null, phoneHash: null, closingNote: '', status: 'completed', outcome: 'referred_police', region: 'kayes' });
  expect(old?.attempts.map((attempt) => attempt.note)).toEqual(['']);
  expect(old?.purgedAt).toEqual(clock);
  expect(await store.openPointer(protection.hash('+22370000201'))).toBeUndefined();
  await expect(work.reveal('OLD222', { ...agent, isAdmin: true }, '')).rejects.toMatchObject({ status: 409 });

  const recent = await store.findCallbackRequest('NEW333');
  expect(protection.decrypt(recent?.phoneSealed ?? '')).toBe('+22370000202');
  expect(recent?.attempts[0]?.note).toBe('She lives near the market.');
  expect((await store.findCallbackRequest('OPEN44'))?.phoneSealed).toBeTruthy();

  // Running again erases nothing more; the figures still count all three.
  expect(await purgeClosedRequests({ store, withLock, now, logger: infra.logger }, 90)).toBe(0);
  const from = new Date('2026-01-01T00:00:00Z');
  const figures = hotlineFigures(await store.createdBetween(from, new Date('2026-02-01T00:00:00Z')), from, new Date('2026-02-01T00:00:00Z'));
  expect(figures).toMatchObject({ total: 3, byOutcome: { referred_police: 1, information_given: 1 }, byRegion: { kayes: 3 } });
  // A new request from the purged number makes a new entry.
  await recordCallbackRequest(intake, request('AGAIN5', '+22370000201'), clock);
  expect(await store.findCallbackRequest('AGAIN5')).toMatchObject({ status: 'new' });
});
