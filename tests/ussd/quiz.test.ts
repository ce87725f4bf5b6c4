import { randomUUID } from 'node:crypto';
import { createRespondentProfiles, type RespondentProfiles } from '../../src/results/respondent-profiles';
import { createResultsStore, type ResultsStore } from '../../src/results/results-store';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { FLOW_EVENTS_QUEUE } from '../../src/ussd/apply-flow-events';
import { dialPath } from '../../src/ussd/channels/kannel-smpp';
import { ussdModule } from '../../src/ussd/ussd-module';
import { getKannelUssd } from '../support/kannel-ussd';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig } from '../support/test-env';

/*
 * The quiz and the respondent profile through the real app (HTTP, Redis, the MongoDB-compatible server, the
 * worker): *321*7# on both channels, the profile asked once, results kept by hash, a replayed hop stored once.
 * The scripted journeys in three languages are in journeys/ (fr-quiz-*, bm-quiz-*, en-quiz-*).
 */
const { logger, lines } = captureLogger('debug');
let running: RunningSafeline;
let token: string;
let prefix: string;
let protection: PhoneProtection;
let results: ResultsStore;
let respondents: RespondentProfiles;
let phoneSeq = 0;
const newPhone = (): string => `+2237${String(4_000_000 + (phoneSeq += 1) * 7_919).padStart(7, '0')}`;

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'debug', USSD_KANNEL_SMSC_IDS: 'ussd-orange' });
  token = config.ussd.callbackToken;
  prefix = config.queuePrefix;
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  results = createResultsStore(running.infra.mongo.connection);
  respondents = createRespondentProfiles(running.infra.mongo.connection);
});
afterAll(() => running?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event handed over so far has been applied: the outbox, the relays' hands and the queue are empty. */
async function drained(): Promise<void> {
  const redis = running.infra.redis.client;
  const queue = running.infra.queues.create(FLOW_EVENTS_QUEUE);
  const outbox = `${prefix}:ussd:outbox`;
  let quiet = 0;
  for (let i = 0; i < 100 && quiet < 3; i += 1) {
    const counts = await queue.getJobCounts();
    const taken = await redis.keys(`${outbox}:taken:*`);
    const held = taken.length ? await Promise.all(taken.map((key) => redis.llen(key))) : [];
    const idle = (await redis.llen(outbox)) === 0 && held.every((n) => n === 0) && counts.waiting + counts.active + counts.delayed === 0;
    quiet = idle ? quiet + 1 : 0;
    await sleep(50);
  }
  expect(quiet).toBe(3);
}

/** A French caller who chose the language on an earlier call. */
async function frenchCaller(phone: string) {
  const earlier = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  await earlier.dial();
  await earlier.type('1');
  await drained();
  return caller(running.url, token, phone, `ATUid_${randomUUID()}`);
}

describe('the quiz and the respondent profile', () => {
  it('asks the profile once: a later call dialled with *321*7# goes straight to the first question', async () => {
    const phone = newPhone();
    const hash = protection.hash(phone);
    const first = await frenchCaller(phone);
    await first.dial();
    expect((await first.type('7')).body).toContain('3 questions sur vous');
    await first.type('1');
    await first.type('1'); // Bamako
    await first.type('2'); // 18 to 24
    expect((await first.type('2')).body).toContain('1/4 Au Mali'); // male
    await drained();
    expect(await respondents.find(hash)).toEqual({ respondent: hash, region: 'bamako', age_band: '18_24', sex: 'male' });

    // *321*7#: AT's first hop carries "7"; the profile is not offered again.
    const second = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
    const dialled = await second.type('7');
    expect(dialled.body).toMatch(/^CON Quiz, 4 questions\.\n1\/4 Au Mali/);
    expect((await second.type('2')).body).toContain('2/4 Un inconnu');
    await drained();
    expect(await results.ofRespondent(hash)).toEqual([
      expect.objectContaining({
        respondent: hash, flow: 'quiz', node: 'law', result: 'knows_law', category: 'no', correct: false, language: 'fr',
      }),
    ]);
  });

  it('lets the caller skip the profile: remembered, not asked again, nothing else stored about them', async () => {
    const phone = newPhone();
    const hash = protection.hash(phone);
    const call = await frenchCaller(phone);
    await call.dial();
    await call.type('7');
    expect((await call.type('2')).body).toContain('1/4 Au Mali');
    await drained();
    const stored = await respondents.find(hash);
    expect(stored?.skippedAt).toBeInstanceOf(Date);
    expect(stored).not.toHaveProperty('region');

    const again = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
    expect((await again.type('7')).body).toContain('1/4 Au Mali');
    // 6 on the main menu opens the profile on purpose, and ends with a thank-you, not the quiz.
    const menu = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
    expect((await menu.dial()).body).toContain('Reprendre'); // the quiz above was left unfinished
    await menu.type('2');
    expect((await menu.type('6')).body).toContain('3 questions sur vous');
    await menu.type('1');
    await menu.type('8'); // prefer not to say
    await menu.type('6');
    const last = await menu.type('3');
    expect(last.body).toMatch(/^END Merci\. Vos réponses sont gardées sans votre numéro\./);
    await drained();
    const none = 'prefer_not_to_say';
    expect(await respondents.find(hash)).toMatchObject({ region: none, age_band: none, sex: none });
  });

  it('stores a replayed hop\'s answer once (same event id, the first time kept)', async () => {
    const phone = newPhone();
    const hash = protection.hash(phone);
    const sessionId = `ATUid_${randomUUID()}`;
    const call = caller(running.url, token, phone, sessionId);
    await call.type('7');
    await call.type('1'); // French
    await call.type('2'); // skip
    expect((await call.type('1')).body).toContain('2/4 Un inconnu');
    await drained();
    const [answer] = await results.ofRespondent(hash);
    expect(answer).toMatchObject({ result: 'knows_law', category: 'yes', correct: true });

    // Redis loses the session: AT's same text again is replayed from its inputs, with the same events.
    await running.infra.redis.client.del(`${prefix}:ussd:session:${sessionId}`);
    expect((await call.resend()).body).toContain('2/4 Un inconnu');
    await drained();
    expect(await results.ofRespondent(hash)).toEqual([answer]);
    expect(await results.tally('quiz', 'knows_law')).toContainEqual({ category: 'yes', answers: 1 });
  });

  it('keeps results and profiles by the keyed hash: no number, no sealed number, nothing typed', async () => {
    const db = running.infra.mongo.connection.db;
    const stored = JSON.stringify([
      ...(await db?.collection('results').find({}).toArray() ?? []),
      ...(await db?.collection('respondent_profiles').find({}).toArray() ?? []),
    ]);
    expect(stored).toContain('knows_law');
    expect(stored).not.toMatch(/2237\d{7}|"phoneSealed"|"phoneNumber"/);
    expect(lines().join('\n')).not.toMatch(/2237\d{7}/);
  });

  it('starts the quiz from *321*7# on the Kannel channel: the dial carries the code', async () => {
    expect(dialPath('*321*7#', new Map([['7', 'quiz']]))).toBe('7');
    expect(dialPath('*321*7*1#', new Map([['7', 'quiz']]))).toBe('7*1');
    expect(dialPath('*321*8#', new Map([['7', 'quiz']]))).toBe('');
    expect(dialPath('*321#', new Map([['7', 'quiz']]))).toBe('');
    const from = newPhone();
    const dial = (text: string, op: number, session: Buffer, phone = from) =>
      getKannelUssd(running.url, { token, from: phone, text, op, session, smsc: 'ussd-orange' });
    const session = Buffer.from([0x51, 0x07]);
    const hop = (text: string, op: number) => dial(text, op, session);
    const dialled = await hop('*321*7#', 1);
    expect(dialled.body).toContain('Langue / Kan / Language');
    expect((await hop('3', 18)).body).toContain('3 questions about you');
    expect((await hop('2', 18)).body).toContain('1/4 In Mali');
    const plain = await dial('*321#', 1, Buffer.from([0x51, 0x08]), newPhone());
    expect(plain.body).toContain('Langue / Kan / Language');
    // The same phone dials the plain code: in English now, offered the quiz it left.
    expect((await dial('*321#', 1, Buffer.from([0x51, 0x09]))).body).toContain('Continue where you stopped?');
  });

  it('answers a dial with an extension that is no shortcut (*321*8#) at the main menu, as before', async () => {
    const call = await frenchCaller(newPhone());
    const reply = await call.type('8');
    expect(reply.body).toMatch(/^CON Choix invalide\.\nContre la traite des personnes/);
  });
});
