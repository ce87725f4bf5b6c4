import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/dev-services/free-port';
import type { RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { eventually } from '../support/eventually';
import { startWithManager } from '../support/fake-gateway-env';
import { startKannel, type RunningKannel } from '../../src/dev-services/kannel';
import { seedSubscribers } from '../support/seed-subscribers';
import { startSmscSimulator, type ReceivedSms, type SmscSimulator } from '../../src/dev-services/smpp-simulator';
import { staffClient } from '../support/staff-client';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/**
 * Two operators, two routes (SMS_ROUTES_FILE): Orange Mali (+2237) over Kannel's "orange" bind at 20 messages/s,
 * Moov Africa Malitel (+2236) over its "moov" bind at 5/s, each its own price and sender ID. One Kannel, two SMSC
 * simulators: what each operator's SMSC received, and when, is what is measured.
 */
const { logger, lines } = captureLogger('info');
const BATCH = 5;
const ROUTES = { orange: { perSecond: 20, price: 20, sender: 'ORANGEML' }, moov: { perSecond: 5, price: 30, sender: '36000' } };
let orange: SmscSimulator;
let moov: SmscSimulator;
let kannel: RunningKannel;
let running: RunningSafeline;
let protection: PhoneProtection;
const manager = staffClient(() => running.url);
const ALWAYS = { from: '00:00', to: '00:00' };

beforeAll(async () => {
  [orange, moov] = await Promise.all([
    startSmscSimulator({ name: 'orange', receiptDelayMs: 20 }),
    startSmscSimulator({ name: 'moov', receiptDelayMs: 20 }),
  ]);
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const dir = join(testServices().scratch, `routes-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const moUrl = `http://127.0.0.1:${port}/sms/kannel/inbound?token=${token}&from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I`;
  kannel = await startKannel({ smscs: [orange, moov], moUrl, dir: join(dir, 'kannel') });
  const routesFile = join(dir, 'routes.yaml');
  writeFileSync(routesFile, [
    'routes:',
    ...Object.entries(ROUTES).flatMap(([name, route]) => [
      `  - name: ${name}`,
      `    operator: ${name === 'orange' ? 'Orange Mali' : 'Moov Africa Malitel'}`,
      `    prefixes: ["${name === 'orange' ? '+2237' : '+2236'}"]`,
      '    gateway: kannel',
      `    smsc: ${name}`,
      `    max_per_second: ${route.perSecond}`,
      `    price_per_part: ${route.price}`,
      `    sender_id: "${route.sender}"`,
    ]),
    '',
  ].join('\n'));
  const config = testConfig({
    SMS_ROUTES_FILE: routesFile,
    KANNEL_SENDSMS_URL: kannel.sendsmsUrl,
    KANNEL_USERNAME: kannel.username,
    KANNEL_PASSWORD: kannel.password,
    KANNEL_ADMIN_URL: kannel.adminUrl,
    KANNEL_ADMIN_PASSWORD: kannel.adminPassword,
    SMS_CALLBACK_TOKEN: token,
    // The ceiling for all routes together, above both: each route's own must hold.
    SMS_MAX_PER_SECOND: '100',
    CAMPAIGN_BATCH_SIZE: String(BATCH),
    PORT: String(port),
    LOG_LEVEL: 'info',
  });
  running = await startWithManager(config, logger);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  protection = createPhoneProtection(config.secrets);
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await kannel?.stop();
  await Promise.all([orange?.close(), moov?.close()]);
});

/** The most messages received within any one second. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j += 1) {
    while ((sorted[j] ?? 0) - (sorted[i] ?? 0) >= 1_000) i += 1;
    most = Math.max(most, j - i + 1);
  }
  return most;
}
const numbers = (prefix: string, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(12 - prefix.length, '0')}`);

type ImportStatus = {
  state: string;
  report: {
    rows: number; imported: number; rejectedCount: number; rejected: Array<{ line: number; code: string; reason: string }>;
  } | null;
};
async function apiImport(csv: string): Promise<ImportStatus> {
  const res = await manager.call('POST', '/api/v1/subscribers/imports?filename=sikasso.csv', csv, { 'content-type': 'text/csv' });
  expect(res.status).toBe(202);
  const id = String(res.json.importId);
  return eventually(
    async () => (await manager.call('GET', `/api/v1/subscribers/imports/${id}`)).json as unknown as ImportStatus,
    (s) => s.state === 'done' || s.state === 'failed',
  );
}

const orangeImported = numbers('+22370', 1, 40);
const moovImported = numbers('+22366', 1, 16);

it('imports the numbers the routes cover, with their number block, and refuses the others by line', async () => {
  const rows = [...orangeImported.slice(0, 20), '+22320212345', ...orangeImported.slice(20), ...moovImported, '+22350000001'];
  const csv = `phone,language,consent_source,region\n${rows.map((phone) => `${phone},fr,partner list 2026,sikasso`).join('\n')}\n`;
  const status = await apiImport(csv);
  expect(status.state).toBe('done');
  // The header is line 1: the fixed line is line 22, the 5x number the last one.
  expect(status.report).toMatchObject({ rows: 58, imported: 56, rejectedCount: 2 });
  expect(status.report?.rejected.map((r) => ({ line: r.line, code: r.code }))).toEqual([
    { line: 22, code: 'no_route' },
    { line: 59, code: 'no_route' },
  ]);
  expect(status.report?.rejected[0]?.reason).toMatch(/no SMS route covers this number/);
  const subscribers = createSubscriberStore(running.infra.mongo.connection);
  expect((await subscribers.find(protection.hash('+22370000001')))?.numberBlock).toBe('+22370');
  expect((await subscribers.find(protection.hash('+22366000016')))?.numberBlock).toBe('+22366');
  expect(await subscribers.find(protection.hash('+22320212345'))).toBeUndefined();
  expect(lines().join('\n')).not.toContain('22320212345');
});

it('previews the split per operator, each at its route\'s price, with older records as "operator not known yet"', async () => {
  // Stored before number blocks were kept: counted, but not given an operator, since nothing opens their number.
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 5_000_001, count: 10, region: 'sikasso', prefix: '+2237' });
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 5_000_001, count: 4, region: 'sikasso', prefix: '+2236' });
  const text = 'Sikasso: un travail trop beau cache souvent un piege. 80 00 11 11.';
  const res = await manager.call('POST', '/api/v1/campaigns/preview', { texts: { fr: text }, audience: { regions: ['sikasso'] } });
  expect(res.status).toBe(200);
  const preview = res.json as { recipients: number; cost: number; operators: unknown[]; languages: Array<{ parts: number; cost: number }> };
  expect(preview.operators).toEqual([
    { route: 'orange', operator: 'Orange Mali', recipients: 40, parts: 40, cost: 40 * 20 },
    { route: 'moov', operator: 'Moov Africa Malitel', recipients: 16, parts: 16, cost: 16 * 30 },
    // Priced at the dearest route: at most that.
    { route: '', operator: 'operator not known yet', recipients: 14, parts: 14, cost: 14 * 30 },
  ]);
  expect(preview.recipients).toBe(70);
  expect(preview.cost).toBe(40 * 20 + 16 * 30 + 14 * 30);
  expect(preview.languages[0]).toMatchObject({ parts: 1, cost: preview.cost });

  // The console's form shows the same split.
  const form = new URLSearchParams({ name: 'split', axis: 'prevention', text_fr: text, regions: 'sikasso', intent: 'preview' });
  const page = await manager.call('POST', '/console/campaigns?lang=en', form.toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  expect(page.status).toBe(200);
  const table = page.text.slice(page.text.indexOf('By operator'));
  expect(table).toMatch(/<th scope="row">Orange Mali<\/th><td>40<\/td><td>40<\/td><td>800<\/td>/);
  expect(table).toMatch(/<th scope="row">Moov Africa Malitel<\/th><td>16<\/td><td>16<\/td><td>480<\/td>/);
  expect(table).toMatch(/<th scope="row">Operator not known yet[^<]*<\/th><td>14<\/td><td>14<\/td><td>420<\/td>/);
});

it('keeps each operator under its own ceiling while two campaigns span both (measured at each SMSC)', async () => {
  // Each campaign's fan-out spaces its own batches at the route's pace; only booking each send under the route's
  // ceiling keeps the two together under it (without it, each operator would get twice its ceiling).
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 6_000_001, count: 30, region: 'kayes', prefix: '+2237' });
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 4_000_001, count: 10, region: 'kayes', prefix: '+2236' });
  const texts = {
    sikasso: 'Sikasso: ne partez pas sans contrat ecrit. Verifiez au 80 00 11 11.',
    kayes: 'Kayes: un emploi trop beau a l etranger est souvent un piege.',
  };
  const ids: string[] = [];
  for (const [region, text] of Object.entries(texts)) {
    const created = await manager.call('POST', '/api/v1/campaigns', {
      axis: 'prevention', sendWindow: ALWAYS, name: `two operators ${region}`, texts: { fr: text }, audience: { regions: [region] },
    });
    expect(created.status).toBe(200);
    ids.push(String(created.json._id));
  }
  for (const id of ids) expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  const ours = (list: readonly ReceivedSms[]) => list.filter((sms) => Object.values(texts).includes(sms.text));
  const prefix = running.infra.config.queuePrefix;
  // While they run, the route's next free turn is in Redis with a lifetime (the booked turn plus a second).
  await eventually(() => Promise.resolve(ours(moov.received).length), (n) => n >= BATCH, 20_000);
  const ttl = await running.infra.redis.client.pttl(`${prefix}:route-pace:moov`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(30 * 1_000 + 1_000);
  type View = { status: string; progress: { recipients: number; sent: number; delivered: number; cost: number } };
  const view = async (id: string) => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  const [sikasso, kayes] = await Promise.all(
    ids.map((id) => eventually(() => view(id), (v) => v.status === 'completed' && v.progress.delivered === v.progress.recipients, 40_000)),
  );
  expect(sikasso?.progress).toMatchObject({ recipients: 70, sent: 70, cost: 50 * ROUTES.orange.price + 20 * ROUTES.moov.price });
  expect(kayes?.progress).toMatchObject({ recipients: 40, sent: 40, cost: 30 * ROUTES.orange.price + 10 * ROUTES.moov.price });

  const atOrange = ours(orange.received);
  const atMoov = ours(moov.received);
  // Each number left over its own operator's bind with that route's sender ID, the older records (no block) too.
  expect(atOrange).toHaveLength(80);
  expect(atMoov).toHaveLength(30);
  expect(atOrange.every((sms) => sms.to.startsWith('2237') && sms.from === ROUTES.orange.sender)).toBe(true);
  expect(atMoov.every((sms) => sms.to.startsWith('2236') && sms.from === ROUTES.moov.sender)).toBe(true);

  const times = (list: readonly ReceivedSms[]) => list.map((sms) => sms.at);
  const span = (list: readonly ReceivedSms[]) => Math.max(...times(list)) - Math.min(...times(list));
  const measured = {
    orange: { busiest: busiestSecond(times(atOrange)), spanMs: span(atOrange) },
    moov: { busiest: busiestSecond(times(atMoov)), spanMs: span(atMoov) },
  };
  logger.info({ measured }, 'two operators measured');
  // A batch goes out whole at the start of its turn and may arrive late: a batch or two of slack.
  expect(measured.orange.busiest).toBeLessThanOrEqual(ROUTES.orange.perSecond + 2 * BATCH);
  expect(measured.moov.busiest).toBeLessThanOrEqual(ROUTES.moov.perSecond + BATCH);
  expect(measured.orange.spanMs).toBeGreaterThanOrEqual(((80 - ROUTES.orange.perSecond - 2 * BATCH) / ROUTES.orange.perSecond) * 1_000);
  expect(measured.moov.spanMs).toBeGreaterThanOrEqual(((30 - ROUTES.moov.perSecond - BATCH) / ROUTES.moov.perSecond) * 1_000);
}, 60_000);

it('subscribes a JOIN only from a number a route covers, and keeps its block', async () => {
  const subscribers = createSubscriberStore(running.infra.mongo.connection);
  await orange.sendMo({ from: '22377000009', to: '321', text: 'OUI' });
  const joined = await eventually(() => subscribers.find(protection.hash('+22377000009')), (s) => s?.consent.status === 'opted_in');
  expect(joined?.numberBlock).toBe('+22377');
  await orange.sendMo({ from: '22320212399', to: '321', text: 'OUI' });
  await eventually(
    () => Promise.resolve(lines().filter((line) => line.includes('inbound join not subscribed: no SMS route covers the number'))),
    (found) => found.length === 1,
  );
  expect(await subscribers.find(protection.hash('+22320212399'))).toBeUndefined();
  expect(lines().join('\n')).not.toContain('20212399');
});
