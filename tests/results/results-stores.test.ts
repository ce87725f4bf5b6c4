import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { createRespondentProfiles } from '../../src/results/respondent-profiles';
import { createResultsStore, type ResultAnswer } from '../../src/results/results-store';
import { testServices, uniqueName, withDatabase } from '../support/test-env';

/*
 * The results and respondent-profile stores on the MongoDB-compatible server: what the USSD worker writes
 * (tests/ussd/quiz.test.ts drives them through the app), and the shape results pages read.
 */
let connection: Connection;
const hex = (label: string): string => createHash('sha256').update(label).digest('hex');

beforeAll(async () => {
  const uri = withDatabase(testServices().mongodbUri, uniqueName('results'));
  connection = await mongoose.createConnection(uri, { retryWrites: false }).asPromise();
});
afterAll(() => connection.close());

const answer = (overrides: Partial<ResultAnswer> = {}): ResultAnswer => ({
  respondent: hex('phone-1'), sitting: hex('call-1'), flow: 'quiz', node: 'law', result: 'knows_law',
  category: 'yes', correct: true, language: 'bm', eventId: hex('event-1'), ...overrides,
});

describe('the results store', () => {
  it('keeps one answer per question and call: a replayed event changes nothing, a later answer replaces, an older not', async () => {
    const results = createResultsStore(connection);
    const at = new Date('2026-03-02T10:00:00Z');
    expect(await results.record(answer(), at)).toBe('stored');
    expect(await results.record(answer(), new Date(at.getTime() + 5_000))).toBe('kept');
    const changed = answer({ category: 'no', correct: false, eventId: hex('event-2') });
    expect(await results.record(changed, new Date(at.getTime() + 9_000))).toBe('replaced');
    expect(await results.record(answer({ eventId: hex('event-0') }), new Date(at.getTime() - 1_000))).toBe('kept');
    expect(await results.ofRespondent(hex('phone-1'))).toEqual([
      {
        _id: `${hex('call-1')}:quiz:knows_law`, respondent: hex('phone-1'), sitting: hex('call-1'), flow: 'quiz', node: 'law',
        result: 'knows_law', category: 'no', correct: false, language: 'bm', eventId: hex('event-2'),
        at: new Date(at.getTime() + 9_000), day: '2026-03-02',
      },
    ]);
  });

  it('counts answers per category of one question, a new call of the same respondent counting again', async () => {
    const results = createResultsStore(connection);
    const at = new Date('2026-03-03T08:00:00Z');
    for (const [phone, call, category] of [['a', 'a1', 'trap'], ['a', 'a2', 'trap'], ['b', 'b1', 'opportunity'], ['c', 'c1', 'trap']]) {
      const given = answer({
        respondent: hex(phone ?? ''), sitting: hex(call ?? ''), result: 'spots_false_promise', node: 'tricks', category,
        eventId: hex(`e-${call}`),
      });
      expect(await results.record(given, at)).toBe('stored');
    }
    expect(await results.tally('quiz', 'spots_false_promise')).toEqual([
      { category: 'trap', answers: 3 },
      { category: 'opportunity', answers: 1 },
    ]);
    expect(await results.tally('quiz', 'spots_false_promise', new Date('2026-03-04T00:00:00Z'))).toEqual([]);
  });

  it('refuses what no flow can produce, and stores nothing of it', async () => {
    const results = createResultsStore(connection);
    const at = new Date();
    for (const bad of [{ respondent: '+22370000001' }, { category: 'Yes!' }, { result: '' }, { sitting: '' }, { language: 'français' }]) {
      expect(await results.record(answer({ ...bad, respondent: bad.respondent ?? hex('phone-bad') }), at)).toBe('refused');
    }
    expect(await results.ofRespondent(hex('phone-bad'))).toEqual([]);
    expect(await results.ofRespondent('+22370000001')).toEqual([]);
  });
});

describe('the respondent profiles', () => {
  it('keeps each field by the phone hash, "prefer not to say" included; refuses a region that does not exist', async () => {
    const profiles = createRespondentProfiles(connection);
    const who = hex('respondent-1');
    const at = new Date('2026-03-02T10:00:00Z');
    expect(await profiles.answer(who, 'region', 'atlantis', at)).toBe(false);
    expect(await profiles.answer(who, 'shoe_size', '42', at)).toBe(false);
    expect(await profiles.find(who)).toBeUndefined();
    expect(await profiles.answer(who, 'region', 'kayes', at)).toBe(true);
    expect(await profiles.answer(who, 'age_band', 'prefer_not_to_say', at)).toBe(true);
    // Answered again on a later call; the earlier answer applied late does not win.
    expect(await profiles.answer(who, 'region', 'mopti', new Date(at.getTime() + 60_000))).toBe(true);
    expect(await profiles.answer(who, 'region', 'kayes', at)).toBe(true);
    expect(await profiles.find(who)).toEqual({ respondent: who, region: 'mopti', age_band: 'prefer_not_to_say' });
  });

  it('answers written at the same time are all kept (one document per field)', async () => {
    const profiles = createRespondentProfiles(connection);
    const who = hex('respondent-2');
    const at = new Date();
    await Promise.all([
      profiles.answer(who, 'region', 'gao', at), profiles.answer(who, 'age_band', '18_24', at), profiles.answer(who, 'sex', 'female', at),
      profiles.skip(who, at),
    ]);
    expect(await profiles.find(who)).toEqual({ respondent: who, region: 'gao', age_band: '18_24', sex: 'female', skippedAt: at });
  });
});
