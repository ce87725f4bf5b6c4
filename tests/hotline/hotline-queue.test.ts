import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createHotlineStore, type HotlineStore } from '../../src/hotline/hotline-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createEmulatorGateway } from '../../src/gateway/emulator-gateway';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createAuditLog } from '../../src/staff/audit-log';
import { createStaffStore } from '../../src/staff/staff-store';
import { loadTexts } from '../../src/texts/texts';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

const REF = /\b([2-9A-HJKMNP-TV-Z]{6})\b/;
const AGENT_PHONE = '+22366000001';
const { logger, lines } = captureLogger('debug');
let running: RunningSafeline;
let token: string;
let protection: PhoneProtection;
let store: HotlineStore;
let outbox: ReturnType<typeof createEmulatorGateway>;
const callers: string[] = [];
let nextPhone = 70_100_000;

const aminata = staffClient(() => running.url);
const moussa = staffClient(() => running.url);
const admin = staffClient(() => running.url);
const partner = staffClient(() => running.url);
const manager = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'debug' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, logger, modules);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  store = createHotlineStore(running.infra.mongo.connection);
  outbox = createEmulatorGateway(running.infra.mongo.connection, protection);
  await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['aminata@safeline.test', ['hotline_agent']],
    ['moussa@safeline.test', ['hotline_agent']],
    ['admin@safeline.test', ['admin']],
    ['partner@safeline.test', ['partner_viewer']],
    ['manager@safeline.test', ['campaign_manager']],
  ]);
  for (const [client, email] of [[aminata, 'aminata'], [moussa, 'moussa'], [admin, 'admin'], [partner, 'partner'], [manager, 'manager']] as const) {
    expect((await client.signIn(`${email}@safeline.test`)).status).toBe(200);
  }
});
afterAll(() => running.stop());

/** A first-time caller goes through a whole journey on USSD; returns the reference code of the END screen. */
async function journey(inputs: string[], phone = `+223${(nextPhone += 1)}`): Promise<{ ref: string; phone: string }> {
  callers.push(phone);
  const session = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  let reply = await session.dial();
  for (const input of inputs) reply = await session.type(input);
  expect(reply.body.startsWith('END ')).toBe(true);
  const ref = REF.exec(reply.body)?.[1];
  if (!ref) throw new Error(`no reference code in ${reply.body}`);
  return { ref, phone };
}
// English, then: callback, "help for a victim", evening, SMS yes / no.
const CALLBACK_WITH_SMS = ['3', '3', '3', '4', '2'];
const CALLBACK_WITHOUT_SMS = ['3', '3', '3', '4', '1'];
// English, then: report, forced marriage, Segou, a child in danger, callback yes, midday, no SMS.
const URGENT_REPORT = ['3', '2', '7', '5', '1', '1', '2', '1'];

type QueueItem = Record<string, unknown> & { _id: string; status: string; joined: Array<{ reference: string }> };
const queue = async (query = ''): Promise<QueueItem[]> => (await aminata.call('GET', `/api/v1/hotline/queue${query}`)).json.items as QueueItem[];
const inQueue = (ref: string) => eventually(queue, (items) => items.some((item) => item._id === ref));

describe('callback requests reach the queue', () => {
  it('puts a USSD callback request in the agents\u2019 queue, without the number, and confirms by SMS when asked', async () => {
    const { ref, phone } = await journey(CALLBACK_WITH_SMS);
    const item = (await inQueue(ref)).find((entry) => entry._id === ref);
    expect(item).toMatchObject({ status: 'new', language: 'en', window: 'evening', topic: 'victim_help', urgency: 'normal', channel: 'ussd', overdue: false });
    const listing = await aminata.call('GET', '/api/v1/hotline/queue');
    expect(listing.text).not.toContain(phone.slice(4));
    expect(listing.text).not.toMatch(/phoneSealed|phoneHash/);

    const stored = await store.findCallbackRequest(ref);
    expect(stored?.phoneSealed).not.toContain(phone.slice(4));
    expect(protection.decrypt(stored?.phoneSealed ?? '')).toBe(phone);
    expect(stored?.dueAt.getUTCHours()).toBeGreaterThanOrEqual(17);

    const texts = loadTexts(resolve('templates'));
    const sms = await eventually(() => outbox.sentTo(protection.hash(phone)), (sent) => sent.length > 0);
    expect(sms.map((message) => message.text)).toEqual([texts.t('en', 'sms.callback_confirmation', { ref })]);
    expect(sms[0]?.text).not.toMatch(/traffick|hotline|report|victim/i);
  });

  it('sends no SMS to a caller who did not ask for one', async () => {
    const { ref, phone } = await journey(CALLBACK_WITHOUT_SMS);
    await inQueue(ref);
    await new Promise((done) => setTimeout(done, 500));
    expect(await outbox.sentTo(protection.hash(phone))).toEqual([]);
  });

  it('joins a second request from the same number within 24 h to the open one: one queue entry', async () => {
    const first = await journey(CALLBACK_WITHOUT_SMS);
    await inQueue(first.ref);
    // The number is known now: no language menu this time.
    const second = await journey(URGENT_REPORT.slice(1), first.phone);
    expect(second.ref).not.toBe(first.ref);
    const joined = await eventually(() => store.findCallbackRequest(first.ref), (request) => (request?.joined.length ?? 0) > 0);
    expect(joined?.joined.map((entry) => entry.reference)).toEqual([second.ref]);
    // The later request was more urgent: the open one takes its urgency.
    expect(joined).toMatchObject({ urgency: 'child_in_danger', urgencyRank: 0 });
    const items = await queue();
    expect(items.filter((item) => item._id === first.ref || item._id === second.ref).map((item) => item._id)).toEqual([first.ref]);
    // The caller's newer code finds the same request.
    expect((await aminata.call('GET', `/api/v1/hotline/requests/${second.ref}`)).json._id).toBe(first.ref);
    // Its report is kept on its own, anonymous.
    expect(await store.findReport(second.ref)).toMatchObject({ kind: 'marriage', region: 'segou', wantsCallback: true });
  });

  it('alerts the agents on duty by SMS for an urgent request, with the code and never the caller\u2019s number', async () => {
    const added = await admin.call('POST', '/api/v1/hotline/rota', { name: 'Awa on duty', phone: '66 00 00 01', days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '23:59', language: 'en' });
    expect(added.status).toBe(200);
    const { ref, phone } = await journey(URGENT_REPORT);
    const alerts = await eventually(() => outbox.sentTo(protection.hash(AGENT_PHONE)), (sent) => sent.some((message) => message.text.includes(ref)));
    const alert = alerts.find((message) => message.text.includes(ref));
    expect(alert?.text).toContain('Child in danger');
    expect(alert?.text).not.toContain(phone.slice(4));
    expect(await outbox.sentTo(protection.hash(phone))).toEqual([]);
    // Most urgent first.
    expect((await queue())[0]?.urgency).toBe('child_in_danger');
    const rota = await admin.call('GET', '/api/v1/hotline/rota');
    expect(rota.text).toContain('+223******01');
    expect(rota.text).not.toContain('66000001');
    expect((await aminata.call('GET', '/api/v1/hotline/rota')).status).toBe(403);
  });

  it('filters the queue by status, region and language', async () => {
    const { ref } = await journey(URGENT_REPORT);
    await inQueue(ref);
    expect((await queue('?region=segou')).every((item) => item.region === 'segou')).toBe(true);
    expect((await queue('?language=fr')).some((item) => item._id === ref)).toBe(false);
    expect((await queue('?status=completed')).some((item) => item._id === ref)).toBe(false);
    expect((await aminata.call('GET', '/api/v1/hotline/queue?status=bogus')).status).toBe(400);
  });
});

describe('agents work a request', () => {
  it('lets exactly one of two agents claim at once; the other sees who has it', async () => {
    const { ref } = await journey(CALLBACK_WITHOUT_SMS);
    await inQueue(ref);
    const [a, m] = await Promise.all([aminata.call('POST', `/api/v1/hotline/requests/${ref}/claim`), moussa.call('POST', `/api/v1/hotline/requests/${ref}/claim`)]);
    expect([a.status, m.status].sort()).toEqual([200, 409]);
    const [winner, loser] = a.status === 200 ? ['aminata', m] : ['moussa', a];
    expect(loser.json.error?.message).toBe(`Claimed by ${winner}`);
    expect((await store.findCallbackRequest(ref))?.claimedByName).toBe(winner);
  });

  it('reveals the number only to the agent holding the request, and audits every reveal', async () => {
    const { ref, phone } = await journey(CALLBACK_WITHOUT_SMS);
    await inQueue(ref);
    expect((await aminata.call('POST', `/api/v1/hotline/requests/${ref}/reveal`)).status).toBe(409);
    expect((await aminata.call('POST', `/api/v1/hotline/requests/${ref}/claim`)).status).toBe(200);
    expect((await moussa.call('POST', `/api/v1/hotline/requests/${ref}/reveal`)).status).toBe(409);
    for (let i = 0; i < 2; i += 1) {
      const shown = await aminata.call('POST', `/api/v1/hotline/requests/${ref}/reveal`);
      expect(shown.json).toEqual({ phone });
    }
    const audit = await createAuditLog(running.infra.mongo.connection).list({ action: 'hotline.number_revealed' });
    expect(audit.filter((entry) => entry.target === ref)).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(phone.slice(4));
  });

  it('logs attempts, reschedules inside the window, closes with an outcome, and refuses what does not fit', async () => {
    const { ref } = await journey(CALLBACK_WITHOUT_SMS);
    await inQueue(ref);
    const path = `/api/v1/hotline/requests/${ref}`;
    expect((await aminata.call('POST', `${path}/claim`)).status).toBe(200);
    expect((await aminata.call('POST', `${path}/attempts`, { outcome: 'no_answer', note: 'x'.repeat(2_001) })).status).toBe(400);
    const attempt = await aminata.call('POST', `${path}/attempts`, { outcome: 'no_answer', note: 'Tried once.' });
    expect(attempt.json).toMatchObject({ status: 'in_progress', attempts: [{ outcome: 'no_answer', note: 'Tried once.', byName: 'aminata' }] });

    const tomorrow = new Date(Date.now() + 86_400_000);
    const at = (hour: number) => new Date(Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate(), hour, 30)).toISOString();
    expect((await aminata.call('POST', `${path}/reschedule`, { at: at(9) })).status).toBe(400); // the caller chose the evening
    const moved = await aminata.call('POST', `${path}/reschedule`, { at: at(18) });
    expect(moved.json.dueAt).toBe(at(18));

    expect((await aminata.call('POST', `${path}/close`, { outcome: 'referred_to_nowhere' })).status).toBe(400);
    const closed = await aminata.call('POST', `${path}/close`, { outcome: 'referred_shelter_ngo', note: 'Shelter contacted.' });
    expect(closed.json).toMatchObject({ status: 'completed', outcome: 'referred_shelter_ngo' });
    expect((await moussa.call('POST', `${path}/claim`)).status).toBe(409);
    expect((await aminata.call('POST', `${path}/claim`)).json.error?.message).toContain('closed');
    expect((await queue()).some((item) => item._id === ref)).toBe(false);

    const audit = await createAuditLog(running.infra.mongo.connection).list({});
    expect(audit.filter((entry) => entry.target === ref).map((entry) => entry.action).sort()).toEqual(['hotline.attempt_logged', 'hotline.claimed', 'hotline.closed', 'hotline.rescheduled']);
  });

  it('answers bad ids and wrong roles with 4xx, never 500', async () => {
    expect((await partner.call('POST', '/api/v1/hotline/requests/ABCDEF/claim')).status).toBe(403);
    expect((await manager.call('GET', '/api/v1/hotline/queue')).status).toBe(403);
    expect((await aminata.call('POST', '/api/v1/hotline/requests/ZZZZZZ/claim')).status).toBe(404);
    expect((await aminata.call('GET', '/api/v1/hotline/requests/ZZZZZZ')).status).toBe(404);
    expect((await aminata.call('POST', '/api/v1/hotline/requests/not-a-code/claim')).status).toBe(400);
    expect((await aminata.call('POST', '/api/v1/hotline/requests/%00%ff/claim')).status).toBe(400);
    expect((await aminata.call('POST', '/api/v1/hotline/requests/ABCDEF/attempts', '{"outcome":')).status).toBe(400);
    expect((await aminata.call('POST', '/api/v1/hotline/rota', { name: 'x', phone: '1', days: [1], from: '08:00', to: '09:00' })).status).toBe(403);
    expect((await admin.call('POST', '/api/v1/hotline/rota', { name: 'x', phone: 'not a phone', days: [1], from: '08:00', to: '09:00' })).status).toBe(400);
  });
});

describe('figures and the console', () => {
  it('gives admins counts, a per-day series and a CSV without numbers (partners: tests/hotline/partner-views.test.ts)', async () => {
    expect((await partner.call('GET', '/api/v1/hotline/figures')).status).toBe(200);
    const figures = await admin.call('GET', '/api/v1/hotline/figures');
    expect(figures.status).toBe(200);
    expect(figures.json.total).toBeGreaterThanOrEqual(8);
    expect(figures.json.byStatus).toMatchObject({ completed: 1 });
    expect(figures.json.byOutcome).toEqual({ referred_shelter_ngo: 1 });
    expect(figures.json.medianMinutesToFirstAttempt).toEqual(expect.any(Number));
    const today = new Date().toISOString().slice(0, 10);
    expect((figures.json.perDay as Array<{ day: string; count: number }>).find((point) => point.day === today)?.count).toBe(figures.json.total);

    const csv = await admin.call('GET', '/api/v1/hotline/export.csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toContain('reference,created_at');
    expect(csv.text.trim().split('\r\n')).toHaveLength(Number(figures.json.total) + 1);
    for (const phone of callers) expect(csv.text).not.toContain(phone.slice(4));
    expect(csv.text).not.toContain('Shelter contacted');
    expect((await aminata.call('GET', '/api/v1/hotline/export.csv')).status).toBe(403);
    expect((await admin.call('GET', '/api/v1/hotline/figures?from=2026-02-01&to=2026-01-01')).status).toBe(400);

    const page = await admin.call('GET', '/console/hotline/figures');
    expect(page.text).toContain('<svg');
    expect(page.text).toContain('export.csv');
  });

  it('shows the queue page to agents, with overdue rows marked and a self-updating list', async () => {
    const { ref } = await journey(URGENT_REPORT);
    await inQueue(ref);
    const page = await aminata.call('GET', '/console/hotline');
    expect(page.status).toBe(200);
    expect(page.text).toContain(ref);
    expect(page.text).toContain('data-live-src="/console/hotline/rows"');
    expect(page.text).toContain('/console/assets/live.js');
    expect(page.text).toContain('http-equiv="refresh" content="10"');
    const rows = await aminata.call('GET', '/console/hotline/rows');
    expect(rows.text).toContain(ref);
    expect((await partner.call('GET', '/console/hotline')).status).toBe(403);
    const detail = await aminata.call('GET', `/console/hotline/${ref}?lang=en`);
    expect(detail.text).toContain('Claim');
  });

  it('writes no caller\u2019s number and nothing a caller typed to the log', () => {
    const log = lines().join('\n');
    expect(log).toContain('callback request queued');
    for (const phone of [...callers, AGENT_PHONE]) expect(log).not.toContain(phone.slice(4));
    expect(log).not.toContain('Tried once');
  });
});
