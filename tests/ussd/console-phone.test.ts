import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { analyzeText } from '../../src/shared/sms-encoding';
import { createStaffStore } from '../../src/staff/staff-store';
import { FLOW_EVENTS_QUEUE } from '../../src/ussd/apply-flow-events';
import { testNumberOf } from '../../src/ussd/console-phone/phone-calls';
import { SCREEN_COLUMNS } from '../../src/ussd/console-phone/phone-view';
import { loadTexts } from '../../src/texts/texts';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

/*
 * The console's phone through the real app (HTTP, Redis, the MongoDB-compatible server, the worker): the
 * quiz in Bambara with its UCS-2 pages, a callback request that is only shown, a gateway's hop kept out of
 * a test session, and the route refused without CSRF, without sign-in and to roles without access.
 */
const { logger, lines } = captureLogger('debug');
let running: RunningSafeline;
let token: string;
let prefix: string;
let managerId: string;
const texts = loadTexts(resolve('templates'));
const manager = staffClient(() => running.url);
const agent = staffClient(() => running.url);
const partner = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'debug', SMS_GATEWAY: 'emulator' });
  token = config.ussd.callbackToken;
  prefix = config.queuePrefix;
  running = await startSafeline(config, logger, modules);
  await running.infra.mongo.opened;
  const ids = await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['manager@safeline.test', ['campaign_manager']],
    ['agent@safeline.test', ['hotline_agent']],
    ['partner@safeline.test', ['partner_viewer']],
  ]);
  managerId = ids.get('manager@safeline.test') ?? '';
  for (const [client, email] of [[manager, 'manager'], [agent, 'agent'], [partner, 'partner']] as const) {
    expect((await client.signIn(`${email}@safeline.test`)).status).toBe(200);
  }
}, 60_000);
afterAll(() => running?.stop());

interface PhoneReply {
  call: string;
  path: string;
  screen: string;
  end: boolean;
  lines: string[];
  info: string;
  effects: string[];
  encoding: 'GSM-7' | 'UCS-2';
  length: number;
  limit: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const post = (client: ReturnType<typeof staffClient>, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  client.call('POST', '/console/phone', new URLSearchParams(fields).toString(), { ...FORM, ...headers });

/** The page's phone: it keeps the call, AT's text and the screen as the page's hidden fields do. */
function consolePhone(settings: { channel: string; language: string }) {
  let state = { call: '', path: '', screen: '' };
  const replies: PhoneReply[] = [];
  const key = async (pressed: string, input = ''): Promise<PhoneReply> => {
    const res = await post(manager, { ...settings, ...state, input, key: pressed });
    expect(res.status).toBe(200);
    const reply = res.json as unknown as PhoneReply;
    state = { call: reply.call, path: reply.path, screen: reply.screen };
    replies.push(reply);
    return reply;
  };
  return { replies, dial: (code: string) => key(`dial:${code}`), send: (input: string) => key('call', input) };
}

/** Every event handed over so far has been applied: the outbox, the relay's hands and the queue are empty. */
async function drained(): Promise<void> {
  const redis = running.infra.redis.client;
  const queue = running.infra.queues.create(FLOW_EVENTS_QUEUE);
  let quiet = 0;
  for (let i = 0; i < 100 && quiet < 3; i += 1) {
    const counts = await queue.getJobCounts();
    const taken = await redis.keys(`${prefix}:ussd:outbox:taken:*`);
    const held = taken.length ? await Promise.all(taken.map((name) => redis.llen(name))) : [];
    const queued = counts.waiting + counts.active + counts.delayed;
    const idle = (await redis.llen(`${prefix}:ussd:outbox`)) === 0 && held.every((n) => n === 0) && queued === 0;
    quiet = idle ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(quiet).toBe(3);
}

const count = (collection: string) => running.infra.mongo.connection.db?.collection(collection).countDocuments({}) ?? Promise.resolve(-1);

describe("the console's phone", () => {
  it('walks the quiz in Bambara through AT\'s channel: UCS-2 pages within 80 characters, paged as the phone shows them', async () => {
    const phone = consolePhone({ channel: 'africastalking', language: 'bm' });
    const dialled = await phone.dial('*321*7#');
    // A Bambara caller not yet asked the profile: offered first, over three pages.
    expect(dialled.screen).toContain('Ɲininkali 3 aw yɛrɛ kan');
    expect(dialled.screen).toMatch(/\n98\. A tɔ$/);
    expect(dialled.call).toMatch(/^africastalking:[0-9a-f]{16}$/);
    expect(dialled.path).toBe('7');
    expect((await phone.send('98')).screen).toMatch(/^0\. Segin$/m);
    expect((await phone.send('98')).screen).toContain('2. Tɛmɛ');
    expect((await phone.send('2')).screen).toContain('1/4 Mali la, sariya bɛ mɔgɔ jago ɲangi wa?');
    await phone.send('98');
    await phone.send('1');
    await phone.send('98');
    await phone.send('2');
    await phone.send('98');
    await phone.send('1');
    await phone.send('98');
    expect((await phone.send('2')).screen).toContain('Aw ye 3/4 sɔrɔ.');
    let last = phone.replies.at(-1);
    for (let i = 0; i < 5 && !last?.end; i += 1) last = await phone.send('98');
    expect(last?.end).toBe(true);
    expect(last?.screen).toContain("Dɛmɛ: 'An ka aw wele' sugandi.");
    expect(last?.call).toBe('');

    for (const reply of phone.replies) {
      expect(analyzeText(reply.screen)).toMatchObject({ encoding: 'UCS-2', length: reply.length });
      expect(reply).toMatchObject({ encoding: 'UCS-2', limit: 80 });
      expect(reply.length).toBeLessThanOrEqual(80);
      // The phone's lines: the same words, none wider than the screen.
      expect(reply.lines.every((line) => [...line].length <= SCREEN_COLUMNS)).toBe(true);
      expect(reply.lines.join(' ').split(/\s+/)).toEqual(reply.screen.split(/\s+/));
      expect(reply.info).toMatch(new RegExp(`UCS-2, ${reply.length}/80`));
    }
    // What the call would have done: shown, dropped, audited, stored nowhere.
    const effects = phone.replies.flatMap((reply) => reply.effects);
    expect(effects.filter((effect) => effect.startsWith('Enregistrerait une réponse au quiz'))).toHaveLength(4);
    expect(effects).toContainEqual(expect.stringMatching(/^Noterait que le profil a été passé/));
    expect(effects.join('\n')).toContain('result: knows_law, category: yes, correct: true, language: bm');
    await drained();
    expect(await count('results')).toBe(0);
    expect(await count('respondent_profiles')).toBe(0);
    expect(await count('caller_profiles')).toBe(0);
    const audit = await running.infra.mongo.connection.db?.collection('audit_log').find({ action: 'ussd.test_events_dropped' }).toArray();
    const audited = audit?.map((entry) => (entry.details as { events: string }).events);
    expect(audited).toEqual(expect.arrayContaining(['profile.skipped', 'result.recorded']));
  });

  it('pages the same quiz within Kannel\'s 70 UCS-2 characters', async () => {
    const phone = consolePhone({ channel: 'kannel', language: 'bm' });
    let reply = await phone.dial('*321*7#');
    expect(reply.screen).toContain('Ɲininkali 3 aw yɛrɛ kan');
    expect(reply.call).toMatch(/^kannel:/);
    for (const input of ['98', '98', '2']) reply = await phone.send(input);
    expect(reply.screen).toContain('1/4 Mali la');
    for (const each of phone.replies) expect(each).toMatchObject({ encoding: 'UCS-2', limit: 70 });
    expect(Math.max(...phone.replies.map((each) => each.length))).toBeLessThanOrEqual(70);
    // Left unfinished: the tester's next call is offered to resume it (the callback request below).
  });

  it("shows a test session's callback request and creates none; a gateway's hop cannot step the test session", async () => {
    // A resident's request through the gateway is created: the count below can see one.
    const resident = `+2237${String(5_000_000 + Math.floor(Math.random() * 999_999)).padStart(7, '0')}`;
    const earlier = caller(running.url, token, resident, `ATUid_${randomUUID()}`);
    await earlier.dial();
    await earlier.type('1');
    await drained();
    const real = caller(running.url, token, resident, `ATUid_${randomUUID()}`);
    await real.dial();
    for (const input of ['3', '1', '1']) await real.type(input);
    expect((await real.type('1')).body).toMatch(/^END Merci\. Un écoutant vous rappellera/);
    expect(await eventually(() => count('callback_requests'), (n) => n === 1)).toBe(1);

    const phone = consolePhone({ channel: 'africastalking', language: 'fr' });
    // The quiz left unfinished on Kannel above is offered first, as a resident's would be (the tester has their own number).
    expect((await phone.dial('*321#')).screen).toContain('Aw bɛ taa ɲɛ aw lɔra yɔrɔ min na wa?');
    expect((await phone.send('2')).screen).toContain('Contre la traite');
    const { call } = await phone.send('3');
    // The session is kept in Redis as any is, marked test; a gateway's hop naming it is refused.
    const sessionId = `console-phone-${call.split(':')[1] ?? ''}`;
    const stored = JSON.parse((await running.infra.redis.client.get(`${prefix}:ussd:session:${sessionId}`)) ?? '{}') as { test?: boolean };
    expect(stored.test).toBe(true);
    await phone.send('1');
    await phone.send('1');
    const last = await phone.send('1');
    expect(last).toMatchObject({ end: true, encoding: 'GSM-7' });
    const code = /Votre code: ([2-9A-HJKMNP-TV-Z]{6})/.exec(last.screen)?.[1];
    expect(code).toBeDefined();
    const shown = new RegExp(`^Créerait une demande de rappel \\(reference: ${code}, window: morning, topic: case`);
    expect(last.effects).toEqual([expect.stringMatching(shown)]);
    await drained();
    expect(await count('callback_requests')).toBe(1);
    const requests = await running.infra.mongo.connection.db?.collection('callback_requests').find({}).toArray();
    expect(requests?.map((request) => String(request.reference))).not.toContain(code);
    expect(await count('case_reports')).toBe(0);

    // Even with the test number, a gateway's hop does not step a test session (it would create what the test drops).
    const forged = await caller(running.url, token, testNumberOf(managerId), sessionId).type('3');
    expect(forged.body).toBe(`END ${texts.t('fr', 'common.try_later')}`);
    expect(lines().join('\n')).toContain("ussd hop refused: a test session and a gateway's session do not mix");
  });

  it('refuses a post without the CSRF token, without sign-in, and to roles that do not write content', async () => {
    const fields = { channel: 'africastalking', language: 'fr', key: 'dial:*321#' };
    const noToken = await post(manager, fields, { 'x-csrf-token': '' });
    expect(noToken.status).toBe(403);
    expect(noToken.json.error?.code).toBe('csrf');

    const anonymous = staffClient(() => running.url);
    expect((await post(anonymous, fields)).status).toBe(403);
    // With the login page's token (double submit) the route itself sends the anonymous to sign in.
    await anonymous.call('GET', '/console/login');
    anonymous.setCsrf(anonymous.jar.get('sl_csrf') ?? '');
    const unsigned = await post(anonymous, fields);
    expect(unsigned.status).toBe(303);
    expect(unsigned.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fphone');

    for (const client of [agent, partner]) {
      expect((await post(client, fields)).status).toBe(403);
      expect((await client.call('GET', '/console/phone')).status).toBe(403);
    }
    const page = await manager.call('GET', '/console/phone');
    expect(page.status).toBe(200);
    // The console's CSP runs no inline script: the keypad's script is a file of the console's own.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('<script src="/console/assets/phone.js" defer></script>');
    expect(page.text).not.toMatch(/<script>|onclick=/);
  });

  it('works without JavaScript: each key posts the form and the page comes back with the screen', async () => {
    const html = { ...FORM, accept: 'text/html' };
    const fields = { channel: 'africastalking', language: 'fr', asked: '1', call: '', path: '', screen: '', input: '*321', key: '#' };
    const typed = await manager.call('POST', '/console/phone', new URLSearchParams(fields).toString(), html);
    expect(typed.status).toBe(200);
    expect(typed.text).toContain('<input id="phone-input" name="input" value="*321#"');
    const dial = new URLSearchParams({ ...fields, input: '*321#', key: 'call' }).toString();
    const dialled = await manager.call('POST', '/console/phone', dial, html);
    const screen = /<pre id="phone-screen"[^>]*>([^<]*)<\/pre>/.exec(dialled.text)?.[1] ?? '';
    // The main menu (the call above ended, so nothing is offered to resume), drawn on 22 columns.
    expect(screen).toMatch(/^Contre la traite/);
    expect(Math.max(...screen.split('\n').map((line) => line.length))).toBeLessThanOrEqual(SCREEN_COLUMNS);
    expect(dialled.text).toMatch(/<input type="hidden" name="call" value="africastalking:[0-9a-f]{16}"\/>/);
  });

  it('logs no number, the test one included', () => {
    const logged = lines().join('\n');
    expect(logged).not.toMatch(/\+?999\d{9}|2237\d{7}/);
  });
});
