import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { referenceCodesOf } from '../../src/hotline/reference-codes-of';
import { createHotlineStore, type HotlineStore } from '../../src/hotline/hotline-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createEmulatorGateway } from '../../src/gateway/emulator-gateway';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { loadTexts } from '../../src/texts/texts';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

const REF = /\b([2-9A-HJKMNP-TV-Z]{6})\b/;
const AGENT_PHONE = '+22366000011';
const CAP = 3;
const FLOOD = 8;
// English, then: report, forced marriage, Segou, a child in danger, callback yes, midday, no SMS.
const URGENT_REPORT = ['3', '2', '7', '5', '1', '1', '2', '1'];
const texts = loadTexts(resolve('templates'));
let running: RunningSafeline;
let token: string;
let prefix: string;
let protection: PhoneProtection;
let store: HotlineStore;
let outbox: ReturnType<typeof createEmulatorGateway>;
const admin = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig({ HOTLINE_ALERTS_PER_HOUR: String(CAP) });
  token = config.ussd.callbackToken;
  prefix = config.queuePrefix;
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  store = createHotlineStore(running.infra.mongo.connection);
  outbox = createEmulatorGateway(running.infra.mongo.connection, protection);
  await createStaff(createStaffStore(running.infra.mongo.connection), [['admin@safeline.test', ['admin']]]);
  expect((await admin.signIn('admin@safeline.test')).status).toBe(200);
});
afterAll(() => running.stop());

async function urgentReport(phone: string): Promise<string> {
  const session = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  let reply = await session.dial();
  for (const input of URGENT_REPORT) reply = await session.type(input);
  const ref = REF.exec(reply.body)?.[1];
  if (!reply.body.startsWith('END ') || !ref) throw new Error(`no reference code in ${reply.body}`);
  return ref;
}

const alerts = () => outbox.sentTo(protection.hash(AGENT_PHONE));
const settle = () => new Promise((done) => setTimeout(done, 1_500));
const phones = Array.from({ length: FLOOD }, (_, index) => `+2237020${String(index).padStart(4, '0')}`);
let refs: string[] = [];
let shiftId = '';

describe('urgent alerts to agents under a flood of urgent requests', () => {
  it(`alerts an agent for the first ${CAP} in an hour, then once that more are waiting, and the queue has them all`, async () => {
    const added = await admin.call('POST', '/api/v1/hotline/rota', { name: 'Awa on duty', phone: '66 00 00 11', days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '23:59', language: 'en' });
    shiftId = String(added.json.id);
    // A token holder posts many urgent reports with a callback, each from another number.
    // The first ones come one by one and are alerted; then the rest all at once.
    const first: string[] = [];
    for (const phone of phones.slice(0, CAP)) {
      first.push(await urgentReport(phone));
      await eventually(alerts, (messages) => messages.length === first.length);
    }
    refs = [...first, ...(await Promise.all(phones.slice(CAP).map((phone) => urgentReport(phone))))];
    await eventually(async () => Promise.all(refs.map((ref) => store.findCallbackRequest(ref))), (found) => found.every((request) => request?.alertedAt));
    await eventually(alerts, (messages) => messages.length >= CAP + 1);
    await settle();
    const final = await alerts();
    expect(final).toHaveLength(CAP + 1);
    const individual = final.filter((message) => REF.test(message.text));
    expect(individual).toHaveLength(CAP);
    expect(individual.map((message) => REF.exec(message.text)?.[1]).sort()).toEqual([...first].sort());
    expect(final.map((message) => message.text)).toContain(texts.t('en', 'sms.agent_alert_summary', { count: String(CAP) }));

    const queue = await admin.call('GET', '/api/v1/hotline/queue');
    const queued = (queue.json.items as Array<{ _id: string }>).map((item) => item._id);
    for (const ref of refs) expect(queued).toContain(ref);

    // The counters live an hour at most.
    for (const key of [`${prefix}:hotline:alerts-sent:${shiftId}`, `${prefix}:hotline:alerts-summary:${shiftId}`]) {
      const ttl = await running.infra.redis.client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    }
  });

  it('never alerts twice for one request, even when its alert SMS job is gone and the event is replayed', async () => {
    // The request whose alert was sent, as if the worker died after queuing it and before noting it.
    const final = await alerts();
    const alerted = REF.exec(final.find((message) => REF.test(message.text))?.text ?? '')?.[1] ?? '';
    const phone = phones[refs.indexOf(alerted)] ?? '';
    await running.infra.mongo.connection.collection('callback_requests').updateOne({ _id: alerted as never }, { $set: { alertedAt: null } });
    const input = { reference: alerted, eventKey: `replay:${alerted}`, phoneHash: protection.hash(phone), phoneSealed: protection.encrypt(phone), language: 'en', window: 'midday', topic: 'marriage', urgency: 'child_in_danger', region: 'segou', confirmBySms: false, channel: 'ussd' as const };
    await createHotlineIntake(running.infra, referenceCodesOf(running.infra)).recordCallbackRequest(input, new Date());
    await settle();
    expect((await alerts()).filter((message) => message.text.includes(alerted))).toHaveLength(1);
    expect(await alerts()).toHaveLength(CAP + 1);
  });
});
