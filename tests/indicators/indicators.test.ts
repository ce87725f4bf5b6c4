import { createCampaignStore } from '../../src/campaigns/campaign-store';
import { createMessageStore } from '../../src/campaigns/message-store';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { referenceCodesOf } from '../../src/hotline/reference-codes-of';
import { createResultsStore } from '../../src/results/results-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createAuditLog } from '../../src/staff/audit-log';
import { createStaffStore } from '../../src/staff/staff-store';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { createSessionEventsStore } from '../../src/ussd/session-events-store';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

const MONTH = '2026-10';
const at = (day: number, hour: number, minute = 0): Date => new Date(Date.UTC(2026, 9, day, hour, minute));
const phone = (n: number): string => `+2237040${String(n).padStart(4, '0')}`;
let running: RunningSafeline;
const admin = staffClient(() => running.url);
const partner = staffClient(() => running.url);
const agent = staffClient(() => running.url);
const anonymous = staffClient(() => running.url);
const codes: string[] = [];
const hashes: string[] = [];

interface Row { month: string; region: string; axis: string; indicator: string; breakdown: string; value: unknown; denominator: unknown }

beforeAll(async () => {
  const config = testConfig();
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  const connection = running.infra.mongo.connection;
  await createStaff(createStaffStore(connection), [
    ['admin@safeline.test', ['admin']], ['partner@safeline.test', ['partner_viewer']], ['agent@safeline.test', ['hotline_agent']],
  ]);
  for (const [client, who] of [[admin, 'admin'], [partner, 'partner'], [agent, 'agent']] as const) expect((await client.signIn(`${who}@safeline.test`)).status).toBe(200);

  const protection = createPhoneProtection(config.secrets);
  const subscribers = createSubscriberStore(connection);
  // Six subscribers in Kayes (0-5), two in Segou (6, 7).
  for (let n = 0; n < 8; n += 1) {
    const hash = protection.hash(phone(n));
    hashes.push(hash);
    const region = n < 6 ? 'kayes' : 'segou';
    await subscribers.optIn({ phoneHash: hash, phoneSealed: protection.encrypt(phone(n)), language: 'fr', region, source: 'console', evidence: 'test', topics: [] }, at(1, 8));
  }
  const campaigns = createCampaignStore(connection);
  const base = { axis: 'prevention' as const, texts: { fr: 'x' }, asciiLanguages: [], audience: {}, schedule: { kind: 'now' as const }, sendWindow: { from: '08:00', to: '20:00' }, spread: { maxPerSecond: null, finishWithinHours: null }, budgetCap: null, senderId: null, poll: null, quizFlow: null, createdBy: 'test' };
  const withPartner = await campaigns.create({ ...base, name: 'A', partner: 'UNICEF' });
  const without = await campaigns.create({ ...base, name: 'B' });
  // Campaign A reaches Kayes 0-5; B reaches 0 and Segou 6, 7: 8 people, 9 messages.
  const messages = createMessageStore(connection);
  const sends = [...[0, 1, 2, 3, 4, 5].map((n) => [withPartner._id, n] as const), ...[0, 6, 7].map((n) => [without._id, n] as const)];
  await messages.insertResults(sends.map(([campaign, n], i) => ({
    _id: `mid-${i}`, message: `m-${i}`, campaign, run: `${campaign}:1`, subscriber: hashes[n] ?? '', outcome: 'accepted' as const, statusCode: 101, status: 'Success', cost: 0, parts: 1, at: at(5, 10),
  })));
  // Five of A's messages delivered, one more only "Sent".
  await messages.insertReports([0, 1, 2, 3, 4].map((i) => ({ _id: `mid-${i}:Success`, messageId: `mid-${i}`, status: 'Success', final: true, failureReason: '', run: `${withPartner._id}:1`, at: at(5, 11) })));
  await messages.insertReports([{ _id: 'mid-5:Sent', messageId: 'mid-5', status: 'Sent', final: false, failureReason: '', run: `${withPartner._id}:1`, at: at(5, 11) }]);
  // Seven USSD sessions from Kayes.
  const sessions = createSessionEventsStore(connection, protection, () => new Date());
  for (const [i, n] of [0, 1, 2, 3, 4, 5, 0].entries()) await sessions.record({ sessionId: `s-${i}`, serviceCode: '*123#', networkCode: '61001', phoneNumber: phone(n), status: 'Success', date: at(7, 12).toISOString() });
  // Quiz: five answers from Kayes, four right.
  const results = createResultsStore(connection);
  for (let n = 0; n < 5; n += 1) {
    const answer = { respondent: hashes[n] ?? '', sitting: `${hashes[n] ?? ''}00`, flow: 'quiz', node: 'q1', result: 'q1', category: n === 0 ? 'wrong' : 'right', correct: n !== 0, language: 'fr', eventId: `e-${n}` };
    expect(await results.record(answer, at(8, 9))).toBe('stored');
  }
  // Hotline: six requests from Kayes at 09:00; five called at 09:20 (in the morning window); 3 to police, 2 to social services.
  const intake = createHotlineIntake(running.infra, referenceCodesOf(running.infra));
  const hotline = createHotlineStore(connection);
  for (let n = 0; n < 6; n += 1) {
    const recorded = await intake.recordCallbackRequest({ reference: `RQ${n}ABC`, eventKey: `req-${n}`, phoneHash: hashes[n] ?? '', phoneSealed: protection.encrypt(phone(n)), language: 'fr', window: 'morning', topic: 'case', urgency: 'normal', region: 'kayes', confirmBySms: false, channel: 'ussd' }, at(10, 9));
    codes.push(recorded.reference);
    const outcome = n < 3 ? 'referred_police' : n < 5 ? 'referred_social_services' : null;
    if (outcome) await hotline.updateRequest(recorded.reference, { firstAttemptAt: at(10, 9, 20), status: 'completed', outcome, closedAt: at(10, 10) });
  }
  // Five anonymous case reports from Kayes: three of forced labour, two of sexual exploitation.
  for (let n = 0; n < 5; n += 1) {
    codes.push(await intake.recordReport({ reference: `RP${n}XYZ`, eventKey: `rep-${n}`, kind: n < 3 ? 'forced_labour' : 'sexual_exploitation', region: 'kayes', urgency: 'normal', wantsCallback: false, channel: 'ussd' }, at(12, 15)));
  }
}, 120_000);
afterAll(() => running.stop());

const rowsOf = async (): Promise<Row[]> => {
  const reply = await admin.call('GET', `/api/v1/indicators?from=${MONTH}&to=${MONTH}`);
  expect(reply.status).toBe(200);
  return (reply.json as unknown as { rows: Row[] }).rows;
};
const cell = (rows: Row[], indicator: string, region = 'all', breakdown = ''): Pick<Row, 'value' | 'denominator'> | undefined => {
  const found = rows.find((row) => row.month === MONTH && row.indicator === indicator && row.region === region && row.breakdown === breakdown);
  return found && { value: found.value, denominator: found.denominator };
};

describe('the action plan indicators', () => {
  it('counts each indicator of the four axes on seeded data, per month and region', async () => {
    const rows = await rowsOf();
    expect(cell(rows, 'people_reached_sms')).toEqual({ value: 8, denominator: null });
    expect(cell(rows, 'sms_delivered')).toEqual({ value: 5, denominator: null });
    expect(cell(rows, 'sms_delivered', 'kayes')).toEqual({ value: 5, denominator: null });
    expect(cell(rows, 'ussd_sessions', 'kayes')).toEqual({ value: 7, denominator: null });
    expect(cell(rows, 'quiz_correct_rate', 'kayes')).toEqual({ value: 0.8, denominator: 5 });
    expect(cell(rows, 'callback_requests', 'kayes')).toEqual({ value: 6, denominator: null });
    expect(cell(rows, 'median_minutes_to_first_call')).toEqual({ value: 20, denominator: 5 });
    expect(cell(rows, 'share_called_in_window')).toEqual({ value: 1, denominator: 5 });
    expect(cell(rows, 'referrals')).toEqual({ value: 5, denominator: null });
    expect(cell(rows, 'case_reports', 'kayes')).toEqual({ value: 5, denominator: null });
    expect(cell(rows, 'messages_sent')).toEqual({ value: 9, denominator: null });
    expect(cell(rows, 'messages_sent', 'all', 'UNICEF')).toEqual({ value: 6, denominator: null });
    expect(cell(rows, 'messages_sent', 'all', 'not_recorded')).toEqual({ value: 3, denominator: null });
    expect(cell(rows, 'campaigns')).toEqual({ value: 2, denominator: null });
    expect(cell(rows, 'campaigns', 'all', 'UNICEF')).toEqual({ value: 1, denominator: null });
  });

  it('suppresses counts of 1 to 4 people, and the cell a lone "<5" could be worked out from', async () => {
    const rows = await rowsOf();
    expect(cell(rows, 'people_reached_sms', 'segou')).toEqual({ value: '<5', denominator: null });
    expect(cell(rows, 'people_reached_sms', 'kayes')).toEqual({ value: '5+', denominator: null });
    expect(cell(rows, 'cases_referred_police')).toEqual({ value: '<5', denominator: null });
    expect(cell(rows, 'referrals', 'all', 'referred_social_services')).toEqual({ value: '<5', denominator: null });
    expect(cell(rows, 'case_reports', 'all', 'sexual_exploitation')).toEqual({ value: '<5', denominator: null });
    // Messages are not people: shown as they are.
    expect(cell(rows, 'messages_sent', 'segou')).toEqual({ value: 2, denominator: null });
    const people = ['people_reached_sms', 'ussd_sessions', 'callback_requests', 'referrals', 'case_reports', 'cases_referred_police'];
    const small = rows.filter((row) => people.includes(row.indicator) && typeof row.value === 'number' && row.value >= 1 && row.value <= 4);
    expect(small).toEqual([]);
  });

  it('exports the same rows as CSV with the documented columns', async () => {
    const reply = await partner.call('GET', `/api/v1/indicators?from=${MONTH}&to=${MONTH}&format=csv`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/csv');
    const lines = reply.text.trim().split('\r\n');
    expect(lines[0]).toBe('month,region,axis,indicator,breakdown,value,denominator');
    expect(lines).toContain('"2026-10","all","prosecution","case_reports","","5",""');
    expect(lines).toContain('"2026-10","segou","prevention","people_reached_sms","","<5",""');
    expect(lines.length - 1).toBe((await rowsOf()).length);
  });

  it('refuses a bad month or a reversed range with the reason', async () => {
    for (const query of ['from=2026-13&to=2026-12', 'from=2026-1', 'to=october']) {
      const reply = await admin.call('GET', `/api/v1/indicators?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.json.error?.message).toMatch(/YYYY-MM/);
    }
    const reversed = await admin.call('GET', '/api/v1/indicators?from=2026-11&to=2026-10');
    expect(reversed.status).toBe(400);
    expect(reversed.json.error?.message).toMatch(/after/);
    expect((await admin.call('GET', '/api/v1/case-reports/export.csv?from=2026-11&to=2026-10')).status).toBe(400);
  });

  it('exports case reports under HTCDS field names with no number, hash or reference code', async () => {
    const reply = await admin.call('GET', `/api/v1/case-reports/export.csv?from=${MONTH}&to=${MONTH}`);
    expect(reply.status).toBe(200);
    const [header, ...lines] = reply.text.trim().split('\r\n');
    expect(header).toBe('Date_Of_Report,Type_Of_Exploitation,Region,Age_Band,Gender');
    expect(lines.sort()).toEqual([
      ...Array<string>(3).fill('"2026-10-12","forced_labour","kayes","",""'),
      ...Array<string>(2).fill('"2026-10-12","sexual_exploitation","kayes","",""'),
    ]);
    for (const secret of [...codes, ...hashes, ...[0, 1, 2, 3, 4].map((n) => phone(n).slice(1))]) expect(reply.text).not.toContain(secret);
  });

  it('lets admins and partners read the indicators, only admins export case reports, and audits both', async () => {
    expect((await anonymous.call('GET', '/api/v1/indicators')).status).toBe(401);
    expect((await agent.call('GET', '/api/v1/indicators')).status).toBe(403);
    expect((await partner.call('GET', '/api/v1/indicators')).status).toBe(200);
    expect((await partner.call('GET', '/api/v1/case-reports/export.csv')).status).toBe(403);
    expect((await agent.call('GET', '/console/indicators')).status).toBe(403);
    expect((await anonymous.call('GET', '/console/indicators')).status).toBe(303);
    const audit = createAuditLog(running.infra.mongo.connection);
    expect((await audit.list({ action: 'indicators.exported' })).length).toBeGreaterThan(0);
    expect((await audit.list({ action: 'case_reports.exported' }))[0]?.details).toMatchObject({ from: MONTH, to: MONTH, reports: 5 });
    const openapi = (await admin.call('GET', '/api/docs')).json as { paths?: Record<string, unknown> };
    expect(Object.keys(openapi.paths ?? {})).toEqual(expect.arrayContaining(['/api/v1/indicators', '/api/v1/case-reports/export.csv']));
  });

  it('shows the four axes on the page and in the printable view, with its print stylesheet', async () => {
    const page = await partner.call('GET', `/console/indicators?from=${MONTH}&to=${MONTH}`);
    expect(page.status).toBe(200);
    for (const axis of ['prevention', 'protection', 'prosecution', 'partnership']) expect(page.text).toContain(`id="axis-${axis}"`);
    expect(page.text).not.toContain('/api/v1/case-reports/export.csv');
    const print = await admin.call('GET', `/console/indicators/print?from=${MONTH}&to=${MONTH}&lang=en`);
    expect(print.status).toBe(200);
    expect(print.text).toContain('href="/console/indicators/print.css"');
    expect(print.text).toContain('People reached by SMS');
    const css = await admin.call('GET', '/console/indicators/print.css');
    expect(css.text).toMatch(/@media print[\s\S]*nav[\s\S]*break-before: page/);
    expect((await admin.call('GET', '/console/indicators?from=2026-13')).status).toBe(400);
  });
});
