import { randomUUID } from 'node:crypto';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createCallerProfiles } from '../../src/ussd/caller-profiles';
import { ussdModule } from '../../src/ussd/ussd-module';
import { caller, postUssd } from '../support/ussd-client';
import { captureLogger, testConfig } from '../support/test-env';

const { logger, lines } = captureLogger('debug');
let running: RunningSafeline;
let token: string;
let phoneSeq = 0;
const newPhone = (): string => `+2237${String(1_000_000 + (phoneSeq += 1) * 7919).padStart(7, '0')}`;
const newSession = (): string => `ATUid_${randomUUID()}`;
const expectUssd = (reply: { status: number; contentType: string; body: string }, kind: 'CON' | 'END'): void => {
  expect(reply.status).toBe(200);
  expect(reply.contentType).toMatch(/^text\/plain/);
  expect(reply.body.startsWith(`${kind} `)).toBe(true);
};

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'debug' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
});
afterAll(() => running.stop());

describe('POST /ussd', () => {
  it('asks a first-time caller for a language, remembers it, and offers the main menu in it', async () => {
    const phone = newPhone();
    const call = caller(running.url, token, phone, newSession());
    const first = await call.dial();
    expectUssd(first, 'CON');
    expect(first.body).toContain('Bamanankan');
    const menu = await call.type('3');
    expectUssd(menu, 'CON');
    expect(menu.body).toMatch(/1\. .*\n2\. /);

    // The choice reaches MongoDB through the worker, keyed by the phone's hash.
    const profiles = createCallerProfiles(running.infra.mongo.connection);
    const hash = createPhoneProtection(running.infra.config.secrets).hash(phone);
    for (let i = 0; i < 50 && (await profiles.language(hash)) !== 'en'; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await profiles.language(hash)).toBe('en');

    // Next call: straight to the main menu, in English.
    const again = await caller(running.url, token, phone, newSession()).dial();
    expectUssd(again, 'CON');
    expect(again.body).toBe(menu.body);
  });

  it('answers a resent request with the same screen and does not advance twice', async () => {
    const call = caller(running.url, token, newPhone(), newSession());
    await call.dial();
    const menu = await call.type('1');
    const resent = await call.resend();
    expect(resent.body).toBe(menu.body);
    const next = await call.type('1');
    expect(next.body).not.toBe(menu.body);
  });

  it('re-prompts a wrong option with a short line, and ends politely after three', async () => {
    const call = caller(running.url, token, newPhone(), newSession());
    const first = await call.dial();
    const wrong = await call.type('7');
    expectUssd(wrong, 'CON');
    expect(wrong.body).not.toBe(first.body);
    expect(wrong.body).toContain(first.body.slice(4, 20));
    await call.type('x');
    const last = await call.type('');
    expectUssd(last, 'END');
  });

  it('keeps a "*" typed inside free text as part of the input', async () => {
    // The subscription and report flows have no free text; the fixture-level input test covers validation.
    const call = caller(running.url, token, newPhone(), newSession());
    await call.dial();
    const reply = await call.type('1*2');
    // "1*2" is one input on a language menu: not an option, so it is refused rather than read as two.
    expectUssd(reply, 'CON');
    expect(reply.body.split('\n')[0]).not.toContain('1. ');
  });

  it('survives bad input: never a 5xx, always CON or END, fast', async () => {
    const session = newSession();
    const phone = newPhone();
    const cases: Array<Record<string, string>> = [
      {},
      { sessionId: session },
      { sessionId: session, phoneNumber: 'not a number', text: '' },
      { sessionId: session, phoneNumber: phone, text: 'x'.repeat(1_000) },
      { sessionId: session, phoneNumber: phone, text: '😀🙏🏾' },
      { sessionId: newSession(), phoneNumber: phone, text: '1*1*98*0*00*98' },
      { sessionId: newSession(), phoneNumber: phone, text: '00' },
      { sessionId: 'x'.repeat(500), phoneNumber: phone, text: '' },
    ];
    for (const fields of cases) {
      const started = performance.now();
      const res = await fetch(`${running.url}/ussd?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      const body = await res.text();
      expect({ fields: Object.keys(fields), status: res.status }).toEqual({ fields: Object.keys(fields), status: 200 });
      expect(body).toMatch(/^(CON|END) /);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it('answers an oversized or unreadable body with END and an apology', async () => {
    const huge = await fetch(`${running.url}/ussd?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `sessionId=a&phoneNumber=%2B22370000000&text=${'1'.repeat(11_000)}` });
    expect(huge.status).toBe(200);
    expect(await huge.text()).toMatch(/^END \S/);
    const json = await fetch(`${running.url}/ussd?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sessionId":' });
    expect(json.status).toBe(200);
    expect(await json.text()).toMatch(/^END \S/);
  });

  it('refuses a request without the secret token', async () => {
    const res = await postUssd(running.url, 'wrong-token-wrong-token', { sessionId: newSession(), phoneNumber: newPhone(), text: '' });
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/^END /);
  });

  it('offers to resume a dropped session when the same phone dials again', async () => {
    const phone = newPhone();
    const first = caller(running.url, token, phone, newSession());
    await first.dial();
    await first.type('2'); // Bamanankan
    const where = await first.type('1'); // learn menu
    // Dropped here (no END). A new session from the same phone:
    const second = caller(running.url, token, phone, newSession());
    const offer = await second.dial();
    expectUssd(offer, 'CON');
    expect(offer.body).toMatch(/1\. .*\n2\. /);
    const resumed = await second.type('1');
    expect(resumed.body).toBe(where.body);

    const third = caller(running.url, token, phone, newSession());
    await third.dial();
    const fresh = await third.type('2');
    expect(fresh.body).not.toBe(where.body);
  });

  it('stores a report with a reference code the caller can quote', async () => {
    const call = caller(running.url, token, newPhone(), newSession());
    await call.dial();
    await call.type('1'); // Français
    let reply = await call.type('2'); // report
    // Walk the report flow: first option at every menu, "no callback" where asked.
    for (let hops = 0; hops < 12 && reply.body.startsWith('CON'); hops += 1) reply = await call.type('1');
    expectUssd(reply, 'END');
    const ref = /\b([2-9A-Z]{6})\b/.exec(reply.body)?.[1];
    expect(ref).toBeDefined();
    const hotline = createHotlineStore(running.infra.mongo.connection);
    for (let i = 0; i < 50 && !(await hotline.findReport(ref ?? '')); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await hotline.findReport(ref ?? '')).toMatchObject({ _id: ref, channel: 'ussd' });
  });
});

describe('POST /ussd/events', () => {
  it('stores the end-of-session notification without the number or the inputs', async () => {
    const sessionId = newSession();
    const fields = { sessionId, serviceCode: '*321#', networkCode: '61002', phoneNumber: '+22376000001', status: 'Incomplete', cost: 'XOF 10', durationInMillis: '12000', hopsCount: '3', input: '1*2*secret words', lastAppResponse: 'CON ...', errorMessage: '' };
    const res = await fetch(`${running.url}/ussd/events?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    expect(res.status).toBe(200);
    const stored = await running.infra.mongo.connection.collection('ussd_session_events').findOne({ _id: sessionId as never });
    expect(stored).toMatchObject({ status: 'Incomplete', hopsCount: 3, inputLength: 16 });
    expect(JSON.stringify(stored)).not.toContain('76000001');
    expect(JSON.stringify(stored)).not.toContain('secret words');
  });

  it('answers garbage with a 4xx', async () => {
    const res = await fetch(`${running.url}/ussd/events?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=Exploded' });
    expect(res.status).toBe(400);
  });
});

describe('GET /metrics after the above', () => {
  it('counts USSD hops in the request latency histogram', async () => {
    const text = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${running.infra.config.metricsToken ?? ''}` } })).text();
    expect(text).toMatch(/safeline_http_request_duration_seconds_count\{method="POST",route="\/ussd",status="200"\} [1-9]\d*/);
  });
});

describe('the logs of all the above', () => {
  it('hold no phone number and no typed text in clear', () => {
    const output = lines().join('\n');
    expect(output).not.toMatch(/2237\d{7}/);
    expect(output).not.toContain('secret words');
  });
});
