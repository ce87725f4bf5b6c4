import { resolve } from 'node:path';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import type { RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createSubscriberStore, type SubscriberStore } from '../../src/subscribers/subscriber-store';
import { loadKeywords } from '../../src/texts/sms-keywords';
import { eventually } from '../support/eventually';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';
import { seedSubscribers } from '../support/seed-subscribers';
import { fakeGatewayConfig, startWithManager } from '../support/fake-gateway-env';
import { staffClient } from '../support/staff-client';
import { captureLogger } from '../support/test-env';

/** AT's SMS callbacks over real HTTP: incoming keywords, the opt-out callback, delivery reports. */
const { logger, lines } = captureLogger('info');
let fake: FakeAfricasTalking;
let running: RunningSafeline;
let protection: PhoneProtection;
let subscribers: SubscriberStore;
let token: string;
const manager = staffClient(() => running.url);

beforeAll(async () => {
  fake = await startFakeAfricasTalking();
  const config = fakeGatewayConfig(fake, { DELIVERY_REPORT_UNKNOWN_AFTER_MS: '300', DELIVERY_REPORT_MAX_UNKNOWN_PER_MINUTE: '5', SMS_MAX_PER_PHONE_PER_MINUTE: '10' });
  token = config.sms.callbackToken;
  running = await startWithManager(config, logger);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  protection = createPhoneProtection(config.secrets);
  subscribers = createSubscriberStore(running.infra.mongo.connection);
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await fake?.close();
});

const post = (path: string, fields: Record<string, string>, withToken = token) =>
  fetch(`${running.url}${path}?token=${withToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
let smsId = 0;
const inbound = (from: string, text: string, date = new Date()) => post('/sms/inbound', { from, to: '321', text, id: `in-${(smsId += 1)}`, date: date.toISOString(), networkCode: '61002' });

describe('incoming SMS keywords', () => {
  it('opts in with JOIN words and out with STOP words in every language, keeping the consent evidence', async () => {
    const phone = '+22376000001';
    const hash = protection.hash(phone);
    expect(await (await inbound(phone, 'oui migration')).json()).toEqual({ action: 'join' });
    expect(await subscribers.find(hash)).toMatchObject({ language: 'fr', topics: ['migration'], consent: { status: 'opted_in', source: 'sms' } });
    for (const [word, expected] of [['STOP', 'stop'], ['Awo', 'join'], ['a dabila', 'stop'], ['JOIN', 'join'], ['Unsubscribe', 'stop']] as const) {
      expect(await (await inbound(phone, word)).json()).toEqual({ action: expected });
      expect((await subscribers.find(hash))?.consent.status).toBe(expected === 'stop' ? 'opted_out' : 'opted_in');
    }
    // Replies go back in the keyword's language.
    await eventually(() => Promise.resolve(fake.accepted.filter((sms) => sms.number === phone).length), (n) => n >= 6);
    expect(fake.accepted.filter((sms) => sms.number === phone).map((sms) => sms.message)[0]).toContain('Bienvenue');
  });

  it('keeps the latest choice when an older message arrives late', async () => {
    const phone = '+22376000002';
    const now = Date.now();
    await inbound(phone, 'STOP', new Date(now));
    await inbound(phone, 'JOIN', new Date(now - 60_000)); // sent before the STOP, delivered after
    expect((await subscribers.find(protection.hash(phone)))?.consent.status).toBe('opted_out');
  });

  it('turns HELP into a hotline callback request from the SMS channel', async () => {
    const phone = '+22376000003';
    const reply = await inbound(phone, 'Aide svp');
    const body = (await reply.json()) as { action: string; reference: string };
    expect(body.action).toBe('help');
    expect(body.reference).toMatch(/^[2-9A-HJKMNP-TV-Z]{6}$/);
    const request = await eventually(() => createHotlineStore(running.infra.mongo.connection).findCallbackRequest(body.reference), (found) => found !== undefined);
    expect(request).toMatchObject({ channel: 'sms', language: 'fr', status: 'new', topic: 'other' });
    expect(protection.decrypt(request?.phoneSealed ?? '')).toBe(phone);
  });

  it('answers 200 to a message without a keyword and changes nothing', async () => {
    const phone = '+22376000004';
    expect(await (await inbound(phone, 'bonjour, qui etes-vous ?')).json()).toEqual({ action: 'unknown' });
    expect(await subscribers.find(protection.hash(phone))).toBeUndefined();
  });

  it('refuses garbage with 400 and a wrong token with 403, and changes nothing', async () => {
    expect((await post('/sms/inbound', { from: 'not a number', text: 'STOP', id: 'x1' })).status).toBe(400);
    expect((await post('/sms/inbound', { text: 'STOP', id: 'x2' })).status).toBe(400);
    expect((await post('/sms/inbound', { from: '+22376000005', text: 'STOP', id: 'x'.repeat(500) })).status).toBe(400);
    expect((await post('/sms/inbound', { from: '+22376000005', text: 'STOP', id: 'x3' }, 'wrong-token-wrong-token')).status).toBe(403);
    expect((await fetch(`${running.url}/sms/inbound?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":' })).status).toBe(400);
    expect(await subscribers.find(protection.hash('+22376000005'))).toBeUndefined();
  });

  it('opts out from AT\u2019s bulk SMS opt-out callback', async () => {
    const [phone = ''] = await seedSubscribers(running.infra.mongo.connection, protection, { from: 6_100_000, count: 1 });
    expect((await post('/sms/optout', { senderId: 'SAFELINE', phoneNumber: phone })).status).toBe(200);
    expect((await subscribers.find(protection.hash(phone)))?.consent).toMatchObject({ status: 'opted_out', source: 'sms' });
  });

  it('answers a phone over its limit with 429 and Retry-After, and does nothing for it', async () => {
    const phone = '+22376000009';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await inbound(phone, i % 2 ? 'STOP' : 'JOIN')).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429, 429]);
    // The tenth message (a STOP) was the last one acted on: the refused JOIN changed nothing.
    expect((await subscribers.find(protection.hash(phone)))?.consent.status).toBe('opted_out');
    const refused = await post('/sms/optout', { senderId: 'SAFELINE', phoneNumber: '+22376000010' });
    expect(refused.status).toBe(200); // another number, its own count
    const limited = await inbound(phone, 'JOIN');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('reads keywords without case or accents, STOP first', () => {
    const match = loadKeywords(resolve('templates'));
    expect(match('  arrêt  ')).toMatchObject({ action: 'stop', language: 'fr' });
    expect(match('HELP me')).toMatchObject({ action: 'help', language: 'en' });
    expect(match('stopper')).toMatchObject({ action: 'stop' });
    expect(match('bonjour')).toBeUndefined();
  });
});

describe('delivery reports', () => {
  it('counts each message\u2019s first final state once, whatever the order or repeats; unknown ids are answered 200 and counted', async () => {
    await seedSubscribers(running.infra.mongo.connection, protection, { from: 6_200_000, count: 200, topics: ['children'] });
    const created = await manager.call('POST', '/api/v1/campaigns', { name: 'reports', axis: 'protection', texts: { fr: 'Protegez les enfants.' }, audience: { topics: ['children'] }, sendWindow: { from: '00:00', to: '00:00' } });
    const id = String(created.json._id);
    await manager.call('POST', `/api/v1/campaigns/${id}/schedule`);
    type View = { status: string; progress: { sent: number; delivered: number; failed: number; failedDelivery: number } };
    const view = async () => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
    await eventually(view, (v) => v.status === 'completed', 30_000);
    const ids = fake.accepted.filter((sms) => sms.message === 'Protegez les enfants.').map((sms) => sms.messageId);
    expect(ids).toHaveLength(200);

    // Out of order and repeated: Sent after Success, Success twice, Failed after Success.
    for (const [i, messageId] of ids.entries()) {
      const status = i < 150 ? 'Success' : 'Failed';
      for (const s of ['Submitted', status, 'Sent', status, i % 10 === 0 ? 'Failed' : status]) {
        expect((await post('/sms/delivery', { id: messageId, status: s, phoneNumber: '+22376000000', networkCode: '61002', ...(s === 'Failed' ? { failureReason: 'DeliveryFailure' } : {}) })).status).toBe(200);
      }
    }
    expect((await post('/sms/delivery', { id: 'ATXid_nobody_knows', status: 'Success' })).status).toBe(200);
    expect((await post('/sms/delivery', { id: 'x', status: 'Succ ess!' })).status).toBe(400);
    expect((await post('/sms/delivery', { status: 'Success' })).status).toBe(400);
    expect((await post('/sms/delivery', { id: ids[0] ?? '', status: 'Failed' }, 'wrong-token-wrong-token')).status).toBe(403);

    const counted = await eventually(view, (v) => v.progress.delivered + v.progress.failedDelivery >= 200, 15_000);
    expect(counted.progress).toMatchObject({ sent: 200, delivered: 150, failedDelivery: 50, failed: 0 });
    expect(await eventually(async () => Number(await running.infra.redis.client.get(`${running.infra.config.queuePrefix}:delivery-reports-unknown`)), (n) => n === 1)).toBe(1);

    const csv = await manager.call('GET', `/api/v1/campaigns/${id}/report.csv`);
    expect(csv.text.split('\r\n')[0]).toContain('gateway_message_id');
    expect(csv.text).not.toMatch(/\+2237\d{7}/);
    // ..., parts, delivery, failure_reason, at
    expect(csv.text.match(/"1","Success","",/g)?.length).toBe(150);
    expect(csv.text.match(/"1","Failed","DeliveryFailure",/g)?.length).toBe(50);
  }, 60_000);
});

describe('delivery reports under a flood of unknown message ids', () => {
  it('takes a bounded number a minute, refuses the rest with 429 (counted, not kept), and never refuses a known id', async () => {
    const redis = running.infra.redis.client;
    const prefix = running.infra.config.queuePrefix;
    const known = fake.accepted.filter((sms) => sms.message === 'Protegez les enfants.').map((sms) => sms.messageId).slice(0, 20);
    expect(known).toHaveLength(20);
    await redis.del(`${prefix}:delivery-report-unknown-window`); // a fresh minute for this test
    const droppedBefore = Number(await redis.get(`${prefix}:delivery-reports-dropped`));
    const made = Array.from({ length: 30 }, (_, i) => `ATXid_made_up_${i}`);
    const statuses: number[] = [];
    for (const [i, id] of made.entries()) {
      statuses.push((await post('/sms/delivery', { id, status: 'Success' })).status);
      // Reports for messages a run knows, in the middle of the flood: always taken.
      if (i % 3 === 0) expect((await post('/sms/delivery', { id: known[i % known.length] ?? '', status: 'Success' })).status).toBe(200);
    }
    expect(statuses).toEqual([...Array<number>(5).fill(200), ...Array<number>(25).fill(429)]);
    const limited = await post('/sms/delivery', { id: 'ATXid_made_up_more', status: 'Failed' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(await redis.get(`${prefix}:delivery-reports-dropped`)) - droppedBefore).toBe(26);
    expect(await redis.pttl(`${prefix}:delivery-report-unknown-window`)).toBeGreaterThan(0);
    // The window counts what it kept, not the refused posts: a gateway posting our own early reports again
    // every second must not keep it full past its minute (bench:faults lost 945 reports that way).
    expect(await redis.get(`${prefix}:delivery-report-unknown-window`)).toBe('5');

    // The five taken are stored as unknown once their wait is over; the refused never reach the store.
    const reports = running.infra.mongo.connection.collection('delivery_reports');
    const stored = await eventually(() => reports.countDocuments({ messageId: { $in: made } }), (n) => n >= 5);
    expect(stored).toBe(5);
    await new Promise((r) => setTimeout(r, 500));
    expect(await reports.countDocuments({ messageId: { $in: [...made.slice(5), 'ATXid_made_up_more'] } })).toBe(0);
    expect(await redis.lrange(`${prefix}:delivery-report-inbox`, 0, -1)).toEqual(expect.not.arrayContaining([expect.stringContaining('ATXid_made_up_')]));
  }, 30_000);
});

describe('the log', () => {
  it('holds no phone number and no typed text', () => {
    const log = lines().join('\n');
    expect(log).toContain('inbound sms handled');
    expect(log).not.toMatch(/\+2237\d{7}/);
    expect(log).not.toContain('bonjour, qui');
  });
});
