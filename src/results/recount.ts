import type { Connection } from 'mongoose';
import { UNKNOWN, contributionOf, type CountChanges, type CountedProfile, type KeptAnswer } from './contribution';
import { KEPT_ANSWERS } from './result-counts';
import type { StoredResult } from './results-store';

type Question = { readonly flow: string; readonly result: string };

const BATCH = 1_000;

/** Nested counter fields from "n.region.kayes.yes" paths. */
function nested(paths: Map<string, number>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, count] of paths) {
    const parts = path.split('.');
    let at = root;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1) ?? ''] = count;
  }
  return root;
}

async function insertInBatches(connection: Connection, collection: string, docs: Iterable<Record<string, unknown>>): Promise<number> {
  let batch: Record<string, unknown>[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    if (batch.length) await connection.collection(collection).insertMany(batch, { ordered: false });
    written += batch.length;
    batch = [];
  };
  for (const doc of docs) {
    batch.push(doc);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return written;
}

type Profile = { -readonly [K in keyof CountedProfile]: CountedProfile[K] };

async function profilesOf(connection: Connection): Promise<Map<string, Profile>> {
  const profiles = new Map<string, Profile>();
  for await (const answer of connection.collection('respondent_profiles').find({}, { projection: { respondent: 1, field: 1, value: 1 } })) {
    const field = String(answer.field);
    if (field !== 'region' && field !== 'age_band' && field !== 'sex') continue;
    const profile = profiles.get(String(answer.respondent)) ?? { region: UNKNOWN, age_band: UNKNOWN, sex: UNKNOWN };
    profile[field] = String(answer.value);
    profiles.set(String(answer.respondent), profile);
  }
  return profiles;
}

/** One question's respondents and counts, from its results (read once). */
async function recountQuestion(connection: Connection, question: Question, profiles: ReadonlyMap<string, CountedProfile>) {
  const answers = new Map<string, KeptAnswer[]>();
  let results = 0;
  const stored = connection.collection<StoredResult>('results').find({ flow: question.flow, result: question.result }).batchSize(BATCH);
  for await (const doc of stored) {
    results += 1;
    const kept = answers.get(doc.respondent) ?? [];
    kept.push({
      sitting: doc.sitting.slice(0, 16), at: new Date(doc.at), category: doc.category, language: doc.language,
      ...(typeof doc.correct === 'boolean' ? { correct: doc.correct } : {}),
    });
    answers.set(doc.respondent, kept);
  }
  const counts: CountChanges = new Map();
  const respondents = function* () {
    for (const [respondent, given] of answers) {
      const kept = given.sort((a, b) => a.at.getTime() - b.at.getTime()).slice(-KEPT_ANSWERS);
      const profile = profiles.get(respondent) ?? { region: UNKNOWN, age_band: UNKNOWN, sex: UNKNOWN };
      for (const [doc, paths] of contributionOf(question, kept, profile)) {
        const total = counts.get(doc) ?? new Map<string, number>();
        for (const [path, by] of paths) total.set(path, (total.get(path) ?? 0) + by);
        counts.set(doc, total);
      }
      yield { _id: `${question.flow}:${question.result}:${respondent}`, ...question, respondent, answers: kept, profile };
    }
  };
  const written = await insertInBatches(connection, 'result_respondents', respondents());
  const counters = function* () {
    for (const [doc, paths] of counts) {
      yield { _id: doc, ...question, scope: doc.slice(question.flow.length + question.result.length + 2), seq: 0, ...nested(paths) };
    }
  };
  return { results, respondents: written, counters: await insertInBatches(connection, 'result_counts', counters()) };
}

/**
 * Makes the results pages' counts of these questions again from what is stored: `results` and
 * `respondent_profiles`. For a count thought wrong, a change to how counting works, or results loaded in bulk (a
 * benchmark). Run it with the worker stopped: answers counted while it runs would be lost. Holds one question's
 * answers in memory at a time.
 */
export async function recountResults(
  connection: Connection,
  questions: readonly Question[],
): Promise<{ results: number; respondents: number; counters: number }> {
  const profiles = await profilesOf(connection);
  for (const name of ['result_respondents', 'result_counts', 'result_counts_journal', 'result_counts_pending']) {
    await connection.collection(name).deleteMany({});
  }
  const total = { results: 0, respondents: 0, counters: 0 };
  for (const question of questions) {
    const done = await recountQuestion(connection, { flow: question.flow, result: question.result }, profiles);
    total.results += done.results;
    total.respondents += done.respondents;
    total.counters += done.counters;
  }
  return total;
}
