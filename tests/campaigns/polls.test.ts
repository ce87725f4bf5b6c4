import { createResultsStore } from '../../src/results/results-store';
import { analyzeText } from '../../src/shared/sms-encoding';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/**
 * SMS polls end to end over real HTTP: a poll campaign sent through the fake Africa's Talking, the residents'
 * replies posted to /sms/inbound as AT posts them, the results read from the real database.
 */
const { logger, lines } = captureLogger('debug');
const bed = managerOnFakeGateway({ seed: 41, logger });

const QUESTION = {
  fr: 'Connaissez-vous le numero vert 80 00 11 11 ? Repondez 1 (oui) ou 2 (non).',
  bm: 'I bɛ nimɔrɔ 80 00 11 11 dɔn wa? Jaabi 1 (ɔwɔ) walima 2 (ayi).',
  en: 'Do you know the free line 80 00 11 11? Reply 1 (yes) or 2 (no).',
};
type Poll = { result: string; categories: Array<{ name: string; replies: Record<string, string[]> }>; windowHours: number };
const YES = { name: 'yes', replies: { fr: ['1', 'oui'], bm: ['1', 'ɔwɔ'], en: ['1', 'yes'] } };
const NO = { name: 'no', replies: { fr: ['2', 'non'], bm: ['2', 'ayi'], en: ['2', 'no'] } };
const POLL: Poll = { result: 'knows_hotline', categories: [YES, NO], windowHours: 72 };
const THANKS = { fr: 'Merci pour votre réponse.', bm: 'I ni ce i ka jaabi la.', en: 'Thank you for your answer.' };

type ResultDoc = Record<string, unknown> & { _id: string; respondent: string; category: string };
let smsId = 0;
const inbound = async (from: string, text: string, id = `poll-in-${(smsId += 1)}`) => {
  const res = await fetch(`${bed.running.url}/sms/inbound?token=${bed.running.infra.config.sms.callbackToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ from, to: '321', text, id, date: new Date().toISOString() }),
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<Record<string, unknown>>;
};
const resultsCollection = () => bed.running.infra.mongo.connection.collection<ResultDoc>('results');
const resultOf = async (phone: string, campaign: string) =>
  resultsCollection().findOne({ respondent: bed.protection.hash(phone), flow: `poll:${campaign}` });
const thanksTo = (phone: string) => bed.fake.accepted.filter((sms) => sms.number === phone && Object.values(THANKS).includes(sms.message));

/** A poll campaign for the seeded region, sent to completion; its id. */
async function sendPoll(region: string, poll: Poll, texts: Record<string, string> = QUESTION): Promise<string> {
  const created = await bed.manager.call('POST', '/api/v1/campaigns', {
    name: `poll ${region}`, axis: 'prevention', texts, poll, audience: { regions: [region] }, sendWindow: { from: '00:00', to: '00:00' },
  });
  expect(created.status).toBe(200);
  const id = String(created.json._id);
  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  const done = await eventually(async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json, (v) => v.status === 'completed', 30_000);
  expect(done.status).toBe('completed');
  return id;
}

const phones: Record<'fr' | 'bm' | 'en', string[]> = { fr: [], bm: [], en: [] };
let campaign = '';
let notPolled = '';
beforeAll(async () => {
  const connection = bed.running.infra.mongo.connection;
  phones.fr = await seedSubscribers(connection, bed.protection, { from: 4_100_000, count: 6, language: 'fr', region: 'poll-main' });
  phones.bm = await seedSubscribers(connection, bed.protection, { from: 4_200_000, count: 4, language: 'bm', region: 'poll-main' });
  phones.en = await seedSubscribers(connection, bed.protection, { from: 4_300_000, count: 4, language: 'en', region: 'poll-main' });
  [notPolled = ''] = await seedSubscribers(connection, bed.protection, { from: 4_400_000, count: 1, language: 'fr', region: 'elsewhere' });
  campaign = await sendPoll('poll-main', POLL);
}, 60_000);

describe('poll journeys', () => {
  it('fr: the question goes out, "Oui !" is yes, stored by phone hash with the language, and thanked in French', async () => {
    const phone = phones.fr[0] ?? '';
    expect(bed.fake.accepted.find((sms) => sms.number === phone)?.message).toBe(QUESTION.fr);
    expect(await inbound(phone, '  Oui ! ')).toEqual({ action: 'poll', category: 'yes' });
    const stored = await resultOf(phone, campaign);
    expect(stored).toMatchObject({ flow: `poll:${campaign}`, result: 'knows_hotline', category: 'yes', language: 'fr', node: 'sms_reply' });
    expect(stored).not.toHaveProperty('length');
    expect((await eventually(() => Promise.resolve(thanksTo(phone)), (sent) => sent.length === 1)).map((sms) => sms.message)).toEqual([THANKS.fr]);
    // "oui" is also French's JOIN word: for someone just asked, it answers the poll.
    expect((await createSubscriberStore(bed.running.infra.mongo.connection).find(bed.protection.hash(phone)))?.consent.source).toBe('import');
  });

  it('bm: the UCS-2 question, "ƆWƆ" (UCS-2), "owo" (its ASCII spelling) and N\u2019Ko\u2019s digit two are read, thanked in Bambara', async () => {
    const [ucs2 = '', ascii = '', nko = ''] = phones.bm;
    const question = bed.fake.accepted.find((sms) => sms.number === ucs2)?.message ?? '';
    expect(question).toBe(QUESTION.bm);
    expect(analyzeText(question).encoding).toBe('UCS-2');
    expect(analyzeText('ƆWƆ').encoding).toBe('UCS-2');
    expect(await inbound(ucs2, 'ƆWƆ')).toEqual({ action: 'poll', category: 'yes' });
    expect(await inbound(ascii, 'owo.')).toEqual({ action: 'poll', category: 'yes' });
    expect(await inbound(nko, '\u07c2')).toEqual({ action: 'poll', category: 'no' });
    for (const phone of [ucs2, ascii]) expect(await resultOf(phone, campaign)).toMatchObject({ category: 'yes', language: 'bm' });
    expect(await resultOf(nko, campaign)).toMatchObject({ category: 'no', language: 'bm' });
    await eventually(() => Promise.resolve(thanksTo(nko)), (sent) => sent.length === 1);
    for (const phone of [ucs2, ascii, nko]) expect(thanksTo(phone).map((sms) => sms.message)).toEqual([THANKS.bm]);
  });

  it('en: "YES" (also English\u2019s JOIN word) and "2" are read in English, thanked in English', async () => {
    const [yes = '', no = ''] = phones.en;
    expect(await inbound(yes, 'YES')).toEqual({ action: 'poll', category: 'yes' });
    expect(await inbound(no, '2')).toEqual({ action: 'poll', category: 'no' });
    expect(await resultOf(yes, campaign)).toMatchObject({ category: 'yes', language: 'en' });
    expect(await resultOf(no, campaign)).toMatchObject({ category: 'no', language: 'en' });
    await eventually(() => Promise.resolve(thanksTo(no)), (sent) => sent.length === 1);
    expect(thanksTo(yes).map((sms) => sms.message)).toEqual([THANKS.en]);
  });

  it('keeps a reply in no category as "other" with its length only: the text is in no result and no log line', async () => {
    const phone = phones.fr[1] ?? '';
    const text = 'je ne sais pas trop';
    expect(await inbound(phone, text)).toEqual({ action: 'poll', category: 'other' });
    const stored = await resultOf(phone, campaign);
    expect(stored).toMatchObject({ category: 'other', length: text.length, language: 'fr' });
    const everything = JSON.stringify(await resultsCollection().find().toArray());
    expect(everything).not.toContain('sais');
    expect(lines().join('\n')).not.toContain('sais');
    expect(lines().join('\n')).not.toContain(phone);
  });

  it('reads an unexpected script (Arabic, N\u2019Ko letters) as "other", with its length', async () => {
    const [, , arabic = '', nkoWord = ''] = phones.en;
    expect(await inbound(arabic, 'نعم')).toEqual({ action: 'poll', category: 'other' });
    expect(await inbound(nkoWord, 'ߊߟߎ')).toEqual({ action: 'poll', category: 'other' });
    expect(await resultOf(arabic, campaign)).toMatchObject({ category: 'other', length: 3, language: 'en' });
    expect(await resultOf(nkoWord, campaign)).toMatchObject({ category: 'other', length: 3 });
    expect(JSON.stringify(await resultsCollection().find().toArray())).not.toMatch(/[\u0600-\u06ff\u07c0-\u07ff]/);
  });

  it('stores nothing for an empty reply, and answers so', async () => {
    const phone = phones.fr[2] ?? '';
    expect(await inbound(phone, '   ')).toEqual({ action: 'unknown', ignored: 'empty message' });
    expect(await resultOf(phone, campaign)).toBeNull();
    expect(thanksTo(phone)).toEqual([]);
  });

  it('lets STOP win: the person is opted out and no poll result is kept', async () => {
    const phone = phones.fr[3] ?? '';
    expect(await inbound(phone, 'Stop')).toEqual({ action: 'stop' });
    expect(await resultOf(phone, campaign)).toBeNull();
    const subscriber = await createSubscriberStore(bed.running.infra.mongo.connection).find(bed.protection.hash(phone));
    expect(subscriber?.consent.status).toBe('opted_out');
  });

  it('lets STOP win even over a poll stored with "stop" as a reply (keywords.yaml changed since it was checked)', async () => {
    const [phone = ''] = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 4_600_000, count: 1, region: 'poll-stop' });
    const stopping = { ...POLL, categories: [YES, { name: 'no', replies: { fr: ['2', 'non'] } }] };
    const id = await sendPoll('poll-stop', stopping, { fr: QUESTION.fr });
    const categories = [YES, { name: 'no', replies: { fr: ['2', 'stop'] } }];
    await bed.running.infra.mongo.connection.collection('campaigns').updateOne({ _id: id as never }, { $set: { 'poll.categories': categories } });
    expect(await inbound(phone, 'STOP')).toEqual({ action: 'stop' });
    expect(await resultOf(phone, id)).toBeNull();
    expect(thanksTo(phone)).toEqual([]);
  });

  it('handles a reply from someone not polled as any SMS: no result', async () => {
    expect(await inbound(notPolled, '1')).toEqual({ action: 'unknown' });
    expect(await resultsCollection().countDocuments({ respondent: bed.protection.hash(notPolled) })).toBe(0);
  });

  it('keeps one reply per campaign and person: a resent SMS changes nothing, a later answer wins, later chatter does not', async () => {
    const phone = phones.fr[4] ?? '';
    const hash = bed.protection.hash(phone);
    expect(await inbound(phone, '1', 'poll-same-id')).toEqual({ action: 'poll', category: 'yes' });
    expect(await inbound(phone, '1', 'poll-same-id')).toEqual({ action: 'poll', category: 'yes' });
    expect(await resultsCollection().countDocuments({ respondent: hash })).toBe(1);
    expect(await inbound(phone, 'non')).toEqual({ action: 'poll', category: 'no' });
    expect(await resultOf(phone, campaign)).toMatchObject({ category: 'no' });
    expect(await inbound(phone, 'merci beaucoup')).toEqual({ action: 'poll', category: 'other' });
    expect(await resultOf(phone, campaign)).toMatchObject({ category: 'no' });
    expect(await resultOf(phone, campaign)).not.toHaveProperty('length');
    expect(await resultsCollection().countDocuments({ respondent: hash })).toBe(1);
    // An "other" is replaced by a categorised answer, which keeps no length.
    const other = phones.fr[1] ?? '';
    expect(await inbound(other, '2')).toEqual({ action: 'poll', category: 'no' });
    expect(await resultOf(other, campaign)).not.toHaveProperty('length');
    // One thank-you per poll, however many replies.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(thanksTo(phone)).toHaveLength(1);
    expect(thanksTo(other)).toHaveLength(1);
  });

  it('shows the counts per category on the campaign (API and page)', async () => {
    const view = await bed.manager.call('GET', `/api/v1/campaigns/${campaign}`);
    // yes: fr[0], bm x2, en[0]; no: bm N'Ko, en[1], fr[4], fr[1]; other: Arabic, N'Ko letters.
    expect(view.json.pollCounts).toEqual({ yes: 4, no: 4, other: 2 });
    expect(view.json.poll).toEqual(POLL);
    const page = await bed.manager.call('GET', `/console/campaigns/${campaign}?lang=en`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Poll replies: knows_hotline (within 72 h of the send)');
    expect(page.text).toMatch(/<th scope="row">yes<\/th><td>4<\/td>/);
    expect(page.text).toMatch(/<th scope="row">other<\/th><td>2<\/td>/);
  });

  it('keeps each poll send in Redis by phone hash for the window, no longer', async () => {
    const redis = bed.running.infra.redis.client;
    const key = `${bed.running.infra.config.queuePrefix}:poll-sent:${bed.protection.hash(phones.fr[5] ?? '')}`;
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(71 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(72 * 3_600_000);
    expect(JSON.parse((await redis.get(key)) ?? '{}')).toMatchObject({ campaign, language: 'fr', windowMs: 72 * 3_600_000 });
    const thanked = await redis.keys(`${bed.running.infra.config.queuePrefix}:poll-thanked:*`);
    expect(thanked.length).toBeGreaterThan(0);
    for (const marker of thanked) expect(await redis.pttl(marker)).toBeGreaterThan(0);
  });

  it('takes AIDE from someone polled as a callback request, not as "other"', async () => {
    const reply = await inbound(phones.fr[5] ?? '', 'aide');
    expect(reply).toMatchObject({ action: 'help' });
    expect(await resultOf(phones.fr[5] ?? '', campaign)).toBeNull();
  });

  it('handles a reply after the window as any SMS: no result, and the send\u2019s key is gone', async () => {
    const [late = ''] = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 4_500_000, count: 1, region: 'poll-short' });
    const short = await sendPoll('poll-short', { ...POLL, windowHours: 2 / 3_600 }, { fr: QUESTION.fr });
    const key = `${bed.running.infra.config.queuePrefix}:poll-sent:${bed.protection.hash(late)}`;
    await eventually(() => bed.running.infra.redis.client.exists(key), (n) => n === 0, 5_000);
    expect(await inbound(late, '1')).toEqual({ action: 'unknown' });
    expect(await inbound(late, 'oui')).toEqual({ action: 'join' });
    expect(await resultOf(late, short)).toBeNull();
  });
});

describe('a poll that cannot be answered as meant is refused with the reason', () => {
  const create = (poll: unknown, texts: Record<string, string> = QUESTION) =>
    bed.manager.call('POST', '/api/v1/campaigns', { name: 'bad poll', axis: 'prevention', texts, poll });
  const refusal = async (poll: unknown, texts?: Record<string, string>) => {
    const res = await create(poll, texts);
    expect(res.status).toBe(400);
    return String((res.json.error as { message: string }).message);
  };

  it('in the API: no categories, a reply in two categories, an opt-out keyword, "other", a language no reader can answer in', async () => {
    expect(await refusal({ ...POLL, categories: [] })).toContain('poll.categories: give at least one category');
    const twice = { ...POLL, categories: [YES, { name: 'no', replies: { fr: ['Oui'], bm: ['2'], en: ['2'] } }] };
    expect(await refusal(twice)).toContain('reply "Oui" is in both "yes" and "no"');
    const digits = { ...POLL, categories: [YES, { name: 'no', replies: { en: ['1'] } }] };
    expect(await refusal(digits)).toContain('reply "1" is in both "yes" and "no"');
    const stop = { ...POLL, categories: [{ name: 'no', replies: { fr: ['Arrêt'], bm: ['2'], en: ['2'] } }] };
    expect(await refusal(stop)).toContain('reply "Arrêt" is an opt-out keyword');
    expect(await refusal({ ...POLL, categories: [{ name: 'other', replies: { fr: ['3'] } }] })).toContain('"other" is kept');
    expect(await refusal({ ...POLL, categories: [{ name: 'yes', replies: { fr: ['oui'] } }] })).toContain('has no reply in bm, en and no digit');
    expect(await refusal({ ...POLL, windowHours: 0 })).toContain('poll.windowHours');
    expect((await bed.manager.call('GET', '/api/v1/campaigns')).json.campaigns).not.toContainEqual(expect.objectContaining({ name: 'bad poll' }));
  });

  it('in the console: the form takes a poll, and refuses a bad one with the reason', async () => {
    const { manager } = bed;
    const form = (fields: Record<string, string>) =>
      manager.call('POST', '/console/campaigns?lang=en', new URLSearchParams({ _csrf: manager.csrf(), intent: 'create', name: 'console poll', axis: 'prevention', text_fr: QUESTION.fr, ...fields }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    const blank = await manager.call('GET', '/console/campaigns/new?lang=en');
    expect(blank.text).toContain('Poll (optional)');
    const bad = await form({ poll_result: 'knows_hotline', poll_0_name: 'yes', poll_0_fr: '1, stop' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('reply &quot;stop&quot; is an opt-out keyword');
    const good = await form({ poll_result: 'knows_hotline', poll_window_hours: '24', poll_0_name: 'yes', poll_0_fr: '1, oui', poll_1_name: 'no', poll_1_fr: '2, non' });
    expect(good.status).toBe(303);
    const id = String(good.headers.get('location')).split('/').pop() ?? '';
    const view = await manager.call('GET', `/api/v1/campaigns/${id}`);
    expect(view.json.poll).toEqual({ result: 'knows_hotline', windowHours: 24, categories: [{ name: 'yes', replies: { fr: ['1', 'oui'] } }, { name: 'no', replies: { fr: ['2', 'non'] } }] });
    expect(view.json.pollCounts).toEqual({ yes: 0, no: 0, other: 0 });
    const page = await manager.call('GET', `/console/campaigns/${id}?lang=en`);
    expect(page.text).toContain('<th scope="row">no</th><td>2, non</td>');
  });
});

describe('the results store keeps nothing wrong of a poll reply', () => {
  it('refuses an "other" without a whole length, a category with a length, and a flow that is no campaign\u2019s', async () => {
    const results = createResultsStore(bed.running.infra.mongo.connection);
    const hash = bed.protection.hash('+22374999999');
    const reply = { respondent: hash, sitting: hash, flow: `poll:${campaign}`, node: 'sms_reply', result: 'knows_hotline', language: 'fr', eventId: 'sms:x' };
    const at = new Date();
    expect(await results.recordPollReply({ ...reply, category: 'other' }, at)).toBe('refused');
    expect(await results.recordPollReply({ ...reply, category: 'other', length: 2.5 }, at)).toBe('refused');
    expect(await results.recordPollReply({ ...reply, category: 'yes', length: 3 }, at)).toBe('refused');
    expect(await results.recordPollReply({ ...reply, category: 'yes', flow: 'poll:not-a-campaign' }, at)).toBe('refused');
    expect(await results.recordPollReply({ ...reply, category: 'yes', flow: 'quiz' }, at)).toBe('refused');
    expect(await resultsCollection().countDocuments({ respondent: hash })).toBe(0);
    expect(await results.recordPollReply({ ...reply, category: 'other', length: 4 }, at)).toBe('stored');
  });
});
