import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { loadTexts } from '../../src/texts/texts';
import { ussdModule } from '../../src/ussd/ussd-module';
import { startKannel, type RunningKannel } from '../../src/dev-services/kannel';
import { ussdKannelConf } from '../support/kannel-ussd';
import { startSmscSimulator, type SmscSimulator } from '../../src/dev-services/smpp-simulator';
import { startUssdSmscSimulator, type UssdScreen, type UssdSmscSimulator } from '../support/ussd-smsc-simulator';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/*
 * USSD over SMPP end to end: a simulated phone dials the operator's USSD gateway (an SMPP simulator), Kannel's
 * bearerbox + smsbox carry each hop to safeline's GET /ussd/kannel and its answer back as submit_sm. In front
 * of safeline sits a switch, so that a second safeline whose MongoDB is unreachable can play "the app fails".
 */
const texts = loadTexts(join(__dirname, '../../templates'));
const { logger, lines } = captureLogger('info');
let running: RunningSafeline;
let broken: RunningSafeline;
let kannel: RunningKannel;
let sms: SmscSimulator;
let ussd: UssdSmscSimulator;
let proxy: Server;
let target = '';
let phoneSeq = 0;
const newPhone = (): string => `+2237${String(2_000_000 + (phoneSeq += 1) * 7_919).padStart(7, '0')}`;

/** Forwards every request to `target` as it is, and its answer back (headers included). */
function startSwitch(): Promise<Server> {
  const server = createServer((req, res) => {
    const upstream = httpRequest(`${target}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  const env = { USSD_KANNEL_SMSC_IDS: 'ussd-orange', LOG_LEVEL: 'info' };
  const config = testConfig(env);
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
  // Same token and secrets; MongoDB on a port nobody listens on: a new caller's first hop waits on it.
  const brokenConfig = testConfig({ ...env, MONGODB_URI: 'mongodb://127.0.0.1:9/none' });
  const ussdSettings = { ...config.ussd, kannel: { ...config.ussd.kannel, hopTimeoutMs: 1_000 } };
  broken = await startSafeline(
    { ...brokenConfig, secrets: config.secrets, ussd: ussdSettings }, captureLogger('warn').logger, [ussdModule],
  );
  target = running.url;
  proxy = await startSwitch();
  sms = await startSmscSimulator({ name: 'orange' });
  ussd = await startUssdSmscSimulator({ name: 'ussd-orange' });
  const safelineUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  kannel = await startKannel({
    smscs: [sms, ussd],
    moUrl: `${safelineUrl}/sms/not-here?from=%p`,
    extraConf: ussdKannelConf({ binds: [ussd], safelineUrl, token: config.ussd.callbackToken }),
    dir: join(testServices().scratch, `kannel-ussd-${process.pid}-${Date.now()}`),
  });
}, 90_000);
afterAll(async () => {
  await kannel?.stop();
  await ussd?.close();
  await sms?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await broken?.stop();
  await running?.stop();
});

const expectMenu = (screen: UssdScreen, session: Buffer): void => {
  expect(screen).toMatchObject({ serviceType: 'USSD', op: 2 });
  expect(screen.session?.equals(session)).toBe(true);
};

describe('USSD over SMPP through Kannel', () => {
  it('walks a new caller to a callback request: a menu (op 2) each hop, the code on the last screen (op 17), ' +
    'the session echoed', async () => {
    const phone = newPhone();
    // 0x20 and 0x2B: Kannel writes the first as "+", the second as %2B.
    const session = Buffer.from([0x20, 0x2b]);
    const first = await ussd.dial(phone, session);
    expectMenu(first, session);
    expect(first.text).toContain('Langue / Kan / Language');
    expect(first.to).toBe(phone.slice(1));
    const steps: Array<[string, string]> = [
      ['1', "1. S'informer"], ['3', 'Rappel par un écoutant'], ['1', 'parler sans risque'], ['1', 'SMS de confirmation?'],
    ];
    for (const [input, shows] of steps) {
      const screen = await ussd.answer(phone, session, input);
      expectMenu(screen, session);
      expect(screen.text).toContain(shows);
      expect(screen.dataCoding).toBe(0);
    }
    const last = await ussd.answer(phone, session, '1');
    expect(last).toMatchObject({ serviceType: 'USSD', op: 17 });
    expect(last.session?.equals(session)).toBe(true);
    expect(last.text).toContain('Un écoutant vous rappellera');
    const code = /Votre code: ?([A-Z0-9]{4,})/.exec(last.text)?.[1] ?? '';
    expect(code).not.toBe('');
    const hotline = createHotlineStore(running.infra.mongo.connection);
    for (let i = 0; i < 50 && !(await hotline.findCallbackRequest(code)); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await hotline.findCallbackRequest(code)).toMatchObject({ _id: code });
    // Nothing left over the SMS bind (every SMSC group has its allowed-smsc-id).
    expect(sms.received).toHaveLength(0);
  });

  it('sends a Bambara screen in UCS-2, within one SMS (70 characters), paged with 98', async () => {
    const phone = newPhone();
    const session = Buffer.from([0x0a, 0x02]);
    await ussd.dial(phone, session);
    const menu = await ussd.answer(phone, session, '2');
    expectMenu(menu, session);
    expect(menu.dataCoding).toBe(8);
    expect(menu.text).toContain('Mɔgɔ jago bali');
    const topic = await ussd.answer(phone, session, '1');
    const text = await ussd.answer(phone, session, '1');
    for (const screen of [menu, topic, text]) expect(screen.text.length).toBeLessThanOrEqual(70);
    expect(text.text).toContain(`98. ${texts.t('bm', 'common.more')}`);
    const next = await ussd.answer(phone, session, '98');
    expectMenu(next, session);
    expect(next.text).not.toBe(text.text);
    expect(next.text).toContain(`0. ${texts.t('bm', 'common.back')}`);
  });

  it('starts the quiz when the phone dials *321*7#, and pages its Bambara screens in UCS-2 within 70 characters', async () => {
    const phone = newPhone();
    const session = Buffer.from([0x0b, 0x07]);
    const language = await ussd.dial(phone, session, '*321*7#');
    expectMenu(language, session);
    expect(language.text).toContain('Langue / Kan / Language');
    const screens = [await ussd.answer(phone, session, '2')];
    expect(screens[0]?.text).toContain('Ɲininkali 3 aw yɛrɛ kan'); // the profile offer: the quiz, not the main menu
    for (const input of ['98', '98', '2', '98']) screens.push(await ussd.answer(phone, session, input));
    expect(screens.map((screen) => screen.text)).toEqual([
      expect.stringContaining('Ɲininkali 3'), expect.stringContaining('wajibi ye'), expect.stringContaining('2. Tɛmɛ'),
      expect.stringContaining('1/4 Mali la, sariya bɛ mɔgɔ jago ɲangi'), expect.stringContaining('1. Ɔwɔ, kojugu don'),
    ]);
    for (const screen of screens) {
      expectMenu(screen, session);
      expect(screen).toMatchObject({ dataCoding: 8 });
      expect(screen.text.length).toBeLessThanOrEqual(70);
    }
  });

  it('ends a hop without its TLVs and a session id reused by another number politely, the first session unharmed', async () => {
    const phone = newPhone();
    const session = Buffer.from([0x25, 0x26]);
    await ussd.dial(phone, session);
    const bare = await ussd.answer(newPhone(), session, '1', { withoutTlvs: true });
    expect(bare).toMatchObject({ serviceType: 'USSD', op: 17, text: texts.t('fr', 'common.apology') });
    const intruder = await ussd.answer(newPhone(), session, '1');
    expect(intruder).toMatchObject({ op: 17, text: texts.t('fr', 'common.try_later') });
    expect(intruder.session?.equals(session)).toBe(true);
    const menu = await ussd.answer(phone, session, '1');
    expectMenu(menu, session);
    expect(menu.text).toContain("1. S'informer");
  });

  it('answers a failing app with its own polite last screen, never Kannel\'s "Could not fetch content"', async () => {
    target = broken.url;
    try {
      const session = Buffer.from([0x01, 0x01]);
      const screen = await ussd.dial(newPhone(), session);
      expect(screen).toMatchObject({ serviceType: 'USSD', op: 17, text: texts.t('fr', 'common.apology') });
      expect(screen.session?.equals(session)).toBe(true);
      expect(screen.ms).toBeLessThan(2_500);
    } finally {
      target = running.url;
    }
    expect(ussd.screens.map((screen) => screen.text).join('\n')).not.toMatch(/Could not fetch|Empty reply/);
  });

  it('logs no number and no text typed, neither in safeline nor in Kannel', () => {
    const logged = `${lines().join('\n')}\n${kannel.logs()}`;
    expect(logged).toMatch(/ussd/i);
    expect(logged).not.toMatch(/2237\d{6}|S'informer|Rappel/);
  });
});
