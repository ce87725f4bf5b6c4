import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { resultQuestionsOf } from '../../src/flow-engine/questions';
import { buildFlowSet } from '../../src/flow-engine/flow';
import { readFlowFiles } from '../../src/flow-engine/flow-files';
import { createLocks } from '../../src/platform/redis-lock';
import { createPendingCounts } from '../../src/results/pending-counts';
import { createRespondentProfiles } from '../../src/results/respondent-profiles';
import { createResultCounts } from '../../src/results/result-counts';
import { recountResults } from '../../src/results/recount';
import { countedStores, countPending, createResultFigures } from '../../src/results/result-figures';
import { createResultsStore, type ResultAnswer } from '../../src/results/results-store';
import { testServices, uniqueName, withDatabase } from '../support/test-env';

/*
 * The counts behind the results pages, on the MongoDB-compatible server (which loses one of two updates made to a
 * document at once) and Redis: writers at the same time, a writer that died halfway, counts left for later.
 */
let connection: Connection;
let redis: Redis;
let prefix: string;
const hex = (label: string = randomBytes(8).toString('hex')): string => createHash('sha256').update(label).digest('hex');
const questions = resultQuestionsOf(buildFlowSet(readFlowFiles('flows'), 'main').set);
const AT = new Date('2026-03-03T10:00:00Z');

beforeAll(async () => {
  const name = uniqueName('counts');
  prefix = name;
  connection = await mongoose.createConnection(withDatabase(testServices().mongodbUri, name), { retryWrites: false }).asPromise();
  redis = new Redis(testServices().redisUrl);
});
afterAll(async () => {
  await connection.close();
  redis.disconnect();
});

const answer = (respondent: string, result: string, category: string, correct: boolean): ResultAnswer => ({
  respondent, sitting: hex(), flow: 'quiz', node: result, result, category, correct, language: 'fr', eventId: hex(),
});
const figuresWith = () => {
  const counts = createResultCounts(connection, createLocks(redis, prefix, { waitMs: 30_000 }));
  return { counts, figures: createResultFigures({ counts, profiles: createRespondentProfiles(connection), questions }) };
};
const totalOf = async (result: string, scope = 'all') => (await figuresWith().counts.counts('quiz', result, scope))?.n?.all?.all ?? {};

describe('the counts of a question', () => {
  it('miss nothing when many writers count at once, in two processes', async () => {
    const [one, two] = [figuresWith(), figuresWith()];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const given = answer(hex(`r${i}`), 'knows_debt_bondage', i < 25 ? 'exploitation' : 'allowed', i < 25);
        return (i % 2 ? one : two).figures.noteAnswer(given, AT);
      }),
    );
    expect(await totalOf('knows_debt_bondage')).toEqual({ exploitation: 25, allowed: 15 });
    expect((await one.counts.counts('quiz', 'knows_debt_bondage', 'all'))?.k?.all?.all).toBe(25);
  });

  it('make a change that a writer left halfway once, before the next one, and no more', async () => {
    const { counts, figures } = figuresWith();
    await figures.noteAnswer(answer(hex('first'), 'safe_migration', 'prepare', true), AT);
    // A writer wrote its journal entry, changed the all-respondents counts, and died before the region's.
    const journal = connection.db?.collection('result_counts_journal');
    const stored = await journal?.findOne({ _id: 'quiz:safe_migration' as never });
    const respondent = hex('died');
    const entry = {
      seq: (stored?.seq as number) + 1,
      applied: false,
      respondent: {
        _id: `quiz:safe_migration:${respondent}`, flow: 'quiz', result: 'safe_migration', respondent,
        answers: [{ sitting: 'abcdef0123456789', at: AT, category: 'give_papers', correct: false, language: 'bm' }],
        profile: { region: 'unknown', age_band: 'unknown', sex: 'unknown' },
      },
      changes: [
        { doc: 'quiz:safe_migration:all', inc: [{ path: 'n.all.all.give_papers', by: 1 }] },
        { doc: 'quiz:safe_migration:region=unknown', inc: [{ path: 'n.all.all.give_papers', by: 1 }] },
      ],
    };
    await journal?.replaceOne({ _id: 'quiz:safe_migration' as never }, entry);
    await connection.db?.collection('result_counts').updateOne(
      { _id: 'quiz:safe_migration:all' as never },
      { $inc: { 'n.all.all.give_papers': 1 }, $set: { seq: entry.seq } },
    );
    expect(await totalOf('safe_migration', 'region=unknown')).toEqual({ prepare: 1 });

    // The next writer finishes it (the region's counts), leaves the all-respondents counts as they are, then writes its own.
    const next = answer(hex('next'), 'safe_migration', 'prepare', true);
    await figures.noteAnswer(next, AT);
    expect(await totalOf('safe_migration')).toEqual({ prepare: 2, give_papers: 1 });
    expect(await totalOf('safe_migration', 'region=unknown')).toEqual({ prepare: 2, give_papers: 1 });
    const kept = await connection.db?.collection('result_respondents').findOne({ _id: `quiz:safe_migration:${respondent}` as never });
    expect(kept?.answers).toHaveLength(1);
    // The same answer counted again (a retried job) changes nothing; the same respondent answering again moves.
    await figures.noteAnswer(next, AT);
    expect(await totalOf('safe_migration')).toEqual({ prepare: 2, give_papers: 1 });
    expect((await counts.counts('quiz', 'safe_migration', 'all'))?.seq).toBe(entry.seq + 1);
    const later = new Date(AT.getTime() + 60_000);
    await figures.noteAnswer({ ...next, sitting: hex(), eventId: hex(), category: 'give_papers', correct: false }, later);
    expect(await totalOf('safe_migration')).toEqual({ prepare: 1, give_papers: 2 });
  });

  it('leave a count for the worker while Redis is down, and the answer stored; the worker makes it later, once', async () => {
    const { figures } = figuresWith();
    const pending = createPendingCounts(connection);
    const results = createResultsStore(connection);
    const quiet = { warn: jest.fn() };
    const down = countedStores({ results, profiles: createRespondentProfiles(connection) }, figures, pending, () => false, quiet);
    const given = answer(hex('offline'), 'spots_false_promise', 'trap', true);
    expect(await down.results.record(given, AT)).toBe('stored');
    expect(await down.respondents.answer(given.respondent, 'region', 'gao', AT)).toBe(true);
    expect(quiet.warn).toHaveBeenCalledTimes(2);
    expect(await results.tally('quiz', 'spots_false_promise')).toEqual([{ category: 'trap', answers: 1 }]);
    expect(await totalOf('spots_false_promise')).toEqual({});

    expect(await countPending(figures, pending)).toBe(2);
    expect(await countPending(figures, pending)).toBe(0);
    expect(await totalOf('spots_false_promise')).toEqual({ trap: 1 });
    expect(await totalOf('spots_false_promise', 'region=gao')).toEqual({ trap: 1 });
    expect(await totalOf('spots_false_promise', 'region=unknown')).toEqual({});
  });

  it('are what a recount from `results` and `respondent_profiles` makes', async () => {
    const { figures } = figuresWith();
    const profiles = createRespondentProfiles(connection);
    const live = countedStores({ results: createResultsStore(connection), profiles }, figures, createPendingCounts(connection), () => true, { warn: jest.fn() });
    for (let i = 0; i < 14; i += 1) {
      const respondent = hex(`recount-${i}`);
      if (i % 3) await live.respondents.answer(respondent, 'region', i % 2 ? 'mopti' : 'kayes', AT);
      if (i % 4) await live.respondents.answer(respondent, 'sex', 'female', AT);
      await live.results.record(answer(respondent, 'knows_law', i < 9 ? 'yes' : 'no', i < 9), new Date(AT.getTime() + i * 86_400_000));
      if (i === 5) await live.results.record(answer(respondent, 'knows_law', 'dont_know', false), new Date(AT.getTime() + 30 * 86_400_000));
    }
    const snapshot = async () => {
      const docs = await connection.db?.collection('result_counts').find({ _id: { $regex: /^quiz:(knows_law|spots_false_promise):/ } as never }).toArray();
      return Object.fromEntries((docs ?? []).map((doc) => [String(doc._id), { n: doc.n as unknown, k: doc.k as unknown }]));
    };
    const counted = await snapshot();
    expect(Object.keys(counted).sort()).toEqual([
      'quiz:knows_law:all', 'quiz:knows_law:region=kayes', 'quiz:knows_law:region=mopti', 'quiz:knows_law:region=unknown',
      'quiz:spots_false_promise:all', 'quiz:spots_false_promise:region=gao',
    ]);
    expect(await recountResults(connection, questions)).toMatchObject({ results: 16 });
    expect(await snapshot()).toEqual(counted);
  });
});
