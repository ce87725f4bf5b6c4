import { join } from 'node:path';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { loadTexts } from '../../src/texts/texts';
import { readUssdMeta } from '../../src/ussd/channels/kannel-meta';
import { kannelHop } from '../../src/ussd/channels/kannel-smpp';
import type { StoredSession } from '../../src/ussd/session-store';
import { ussdModule } from '../../src/ussd/ussd-module';
import { getKannelUssd, kannelUrlEncode } from '../support/kannel-ussd';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/*
 * GET /ussd/kannel straight over HTTP, as Kannel's get-url calls it (tests/ussd/kannel-smpp.test.ts goes through
 * Kannel itself): the edge cases, cheaper here. Its own redis-server, stopped in the middle of a session.
 */
const texts = loadTexts(join(__dirname, '../../templates'));
const { logger, lines } = captureLogger('debug');
let redis: RunningRedisServer;
let running: RunningSafeline;
let token: string;
let phoneSeq = 0;
const newPhone = (): string => `+2237${String(3_000_000 + (phoneSeq += 1) * 7_919).padStart(7, '0')}`;
let sessionSeq = 0;
const newSession = (): Buffer => Buffer.from([0x30, (sessionSeq += 1)]);
const metaOf = (op: number, session: Buffer): string =>
  `?smpp?ussd_service_op=${op}&its_session_info=${[...session].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}`;

beforeAll(async () => {
  redis = await startRedisServer({ dir: join(testServices().scratch, `kannel-route-redis-${process.pid}`) });
  const config = testConfig({ REDIS_URL: redis.url, USSD_KANNEL_SMSC_IDS: 'ussd-orange,ussd-moov', LOG_LEVEL: 'debug' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
});
afterAll(async () => {
  await running?.stop();
  await redis?.stop();
});

/** A phone on one session: dial, then answers. */
function phone(number = newPhone(), session = newSession(), smsc = 'ussd-orange') {
  return {
    number,
    session,
    dial: () => getKannelUssd(running.url, { token, from: number, text: '*384#', op: 1, session, smsc }),
    type: (text: string) => getKannelUssd(running.url, { token, from: number, text, op: 18, session, smsc }),
  };
}

describe('reading Kannel\'s meta-data', () => {
  it('reads the op and the session as bytes: "+" is 0x20, %2B a "+", letters as they are', () => {
    expect(readUssdMeta('?smpp?ussd_service_op=%12&its_session_info=+%2BA&')).toEqual({
      ok: true,
      meta: { op: 18, session: Buffer.from([0x20, 0x2b, 0x41]) },
    });
    expect(readUssdMeta('?smpp?its_session_info=%0A%02&')).toEqual({ ok: false, reason: 'no ussd_service_op' });
    expect(readUssdMeta('')).toEqual({ ok: false, reason: 'no ussd_service_op' });
  });
});

describe('a hop after a stored session', () => {
  const request = { smsc: 'ussd-orange', phoneNumber: '+22370000000', text: '2', op: 18, session: Buffer.from([1, 2]) };
  const stored = (consumed: string): StoredSession => ({ consumed } as unknown as StoredSession);

  it('steps the stored session with what was typed, or replays the trail when the stored session is behind it', () => {
    const current = kannelHop(request, 'id', '1*3');
    expect(current.inputAfter(stored('1*3'))).toBe('2');
    expect(current.pathAfter(stored('1*3'))).toBe('1*3*2');
    // The hop "3" was answered while Redis did not answer: its session was not saved.
    expect(current.inputAfter(stored('1'))).toBeUndefined();
    expect(current.pathAfter(stored('1'))).toBe('1*3*2');
    // Another process answered later hops: the stored session wins over an older trail.
    expect(kannelHop(request, 'id', '1').pathAfter(stored('1*3'))).toBe('1*3*2');
    expect(kannelHop(request, 'id', undefined).pathAfter(undefined)).toBeUndefined();
    expect(kannelHop({ ...request, op: 1 }, 'id', '1*3').pathAfter(stored('1*3'))).toBe('');
  });
});

describe('GET /ussd/kannel', () => {
  it('answers a dial with a menu (op 2, session echoed as %XX), the next hop with what was typed on that screen only', async () => {
    const call = phone(undefined, Buffer.from([0x20, 0x2b]));
    const first = await call.dial();
    expect(first).toMatchObject({ status: 200, meta: '?smpp?ussd_service_op=2&its_session_info=%20%2B' });
    expect(first.body).toContain('Langue / Kan / Language');
    const menu = await call.type('1');
    // French fits GSM-7: no coding header.
    expect(menu).toMatchObject({ meta: '?smpp?ussd_service_op=2&its_session_info=%20%2B', coding: null });
    expect(menu.body).toContain("1. S'informer");
    // "1" again is the caller's second input (Learn), not a resend.
    const learn = await call.type('1');
    expect(learn.body).not.toBe(menu.body);
    expect(learn.body).toContain('1. Ruses des recruteurs');
  });

  it('sends Bambara with X-Kannel-Coding 2, every screen within 70, pages with 98 / 0 and goes home with 00', async () => {
    const call = phone();
    await call.dial();
    const home = await call.type('2');
    expect(home.coding).toBe('2');
    const learn = await call.type('1');
    const page1 = await call.type('1');
    const page2 = await call.type('98');
    const back = await call.type('0');
    expect(back.body).toBe(page1.body);
    expect(page2.body).not.toBe(page1.body);
    for (const reply of [home, learn, page1, page2]) expect([...reply.body].length).toBeLessThanOrEqual(70);
    const again = await call.type('00');
    expect(again.body).toBe(home.body);
  });

  it('keeps sessions of two numbers apart on the same session bytes and operator, and of one number on two operators', async () => {
    const session = newSession();
    const a = phone(newPhone(), session);
    const b = phone(newPhone(), session);
    const c = phone(a.number, session, 'ussd-moov');
    await a.dial();
    await b.dial();
    await c.dial();
    expect((await a.type('1')).body).toContain("1. S'informer");
    expect((await b.type('3')).body).toContain('1. Learn');
    expect((await c.type('2')).body).toContain('Mɔgɔ jago bali');
  });

  it('ends politely (op 17) a later hop of a session it does not know: another number reusing the bytes, or expired', async () => {
    const owner = phone();
    await owner.dial();
    const intruder = await getKannelUssd(running.url, { token, from: newPhone(), text: '1', op: 18, session: owner.session });
    expect(intruder).toMatchObject({ status: 200, meta: metaOf(17, owner.session), body: texts.t('fr', 'common.try_later') });
    expect((await owner.type('1')).body).toContain("1. S'informer");
  });

  it('offers to resume a dropped session when the number dials again (new session bytes)', async () => {
    const first = phone();
    await first.dial();
    await first.type('1');
    await first.type('1');
    const again = phone(first.number);
    const offer = await again.dial();
    expect(offer.body).toContain(texts.t('fr', 'common.resume_question'));
    const resumed = await again.type('1');
    expect(resumed.body).toContain('1. Ruses des recruteurs');
  });

  it('answers bad input with a polite last screen, never 5xx nor an empty body; a bad token with 403', async () => {
    const session = newSession();
    const apology = texts.t('fr', 'common.apology');
    const cases = [
      { from: newPhone(), text: '1', meta: '' },
      { from: newPhone(), text: '1', meta: '?smpp?ussd_service_op=%12&' },
      { from: newPhone(), text: '1', op: 16, session },
      { from: 'not-a-number', text: '1', op: 18, session },
      { from: newPhone(), text: '1', op: 1, session, smsc: 'sms-orange' },
      { from: newPhone(), text: 'x'.repeat(600), op: 18, session },
    ];
    for (const hop of cases) {
      const reply = await getKannelUssd(running.url, { token, ...hop });
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(apology);
      expect(reply.meta).toMatch(/^\?smpp\?ussd_service_op=17(&its_session_info=%30%[0-9A-F]{2})?$/);
    }
    expect((await getKannelUssd(running.url, { token: 'x'.repeat(32), from: newPhone(), text: '', op: 1, session })).status).toBe(403);
    const res = await fetch(`${running.url}/ussd/kannel?from=${kannelUrlEncode(newPhone())}`);
    expect(res.status).toBe(403);
  });

  it('keeps the session going while Redis is down, replayed from the path this process kept', async () => {
    const path = ['1', '1', '1', '98', '0', '00', '1'];
    const walk = async (stopAfter?: number): Promise<string[]> => {
      const call = phone();
      const screens = [(await call.dial()).body];
      for (const [index, input] of path.entries()) {
        if (index === stopAfter) await redis.stop();
        const reply = await call.type(input);
        expect(reply.status).toBe(200);
        expect(reply.ms).toBeLessThan(1_500);
        screens.push(reply.body);
      }
      return screens;
    };
    const expected = await walk();
    // Redis stays down: the tests after this one need none.
    expect(await walk(2)).toEqual(expected);
  });

  it('logs no number and no text typed', () => {
    const logged = lines().join('\n');
    expect(logged).toMatch(/unusable kannel ussd hop/);
    expect(logged).not.toMatch(/2237\d{6}|xxxxxxxx|not-a-number/);
  });
});
