import type { Connection } from 'mongoose';
import { UNKNOWN, contributionOf, type CountChanges, type CountedProfile, type KeptAnswer } from './contribution';
import type { StoredResult } from './results-store';

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

/**
 * Makes the results pages' counts again from what is stored: `results` and `respondent_profiles`. For a count
 * thought wrong, a change to how counting works, or results loaded in bulk (a benchmark). Run it with the worker
 * stopped: answers counted while it runs would be lost. Holds every respondent's answers in memory at once.
 */
export async function recountResults(connection: Connection): Promise<{ results: number; respondents: number; counters: number }> {
  const profiles = new Map<string, { -readonly [K in keyof CountedProfile]: CountedProfile[K] }>();
  for await (const answer of connection.collection('respondent_profiles').find({}, { projection: { respondent: 1, field: 1, value: 1 } })) {
    const field = String(answer.field);
    if (field !== 'region' && field !== 'age_band' && field !== 'sex') continue;
    const profile = profiles.get(String(answer.respondent)) ?? { region: UNKNOWN, age_band: UNKNOWN, sex: UNKNOWN };
    profile[field] = String(answer.value);
    profiles.set(String(answer.respondent), profile);
  }
  const answers = new Map<string, { flow: string; result: string; respondent: string; answers: KeptAnswer[] }>();
  let results = 0;
  for await (const doc of connection.collection<StoredResult>('results').find({}).batchSize(BATCH)) {
    results += 1;
    const id = `${doc.flow}:${doc.result}:${doc.respondent}`;
    const entry = answers.get(id) ?? { flow: doc.flow, result: doc.result, respondent: doc.respondent, answers: [] };
    entry.answers.push({
      sitting: doc.sitting.slice(0, 16), at: new Date(doc.at), category: doc.category, language: doc.language,
      ...(typeof doc.correct === 'boolean' ? { correct: doc.correct } : {}),
    });
    answers.set(id, entry);
  }
  const counts: CountChanges = new Map();
  const respondents = function* () {
    for (const [id, entry] of answers) {
      const kept = entry.answers.sort((a, b) => a.at.getTime() - b.at.getTime()).slice(-100);
      const profile = profiles.get(entry.respondent) ?? { region: UNKNOWN, age_band: UNKNOWN, sex: UNKNOWN };
      for (const [doc, paths] of contributionOf(entry, kept, profile)) {
        const total = counts.get(doc) ?? new Map<string, number>();
        for (const [path, by] of paths) total.set(path, (total.get(path) ?? 0) + by);
        counts.set(doc, total);
      }
      yield { _id: id, flow: entry.flow, result: entry.result, respondent: entry.respondent, answers: kept, profile };
    }
  };
  for (const name of ['result_respondents', 'result_counts', 'result_counts_journal', 'result_counts_pending']) {
    await connection.collection(name).deleteMany({});
  }
  const written = await insertInBatches(connection, 'result_respondents', respondents());
  const counters = function* () {
    for (const [doc, paths] of counts) {
      const [flow = '', result = '', ...scope] = doc.split(':');
      yield { _id: doc, flow, result, scope: scope.join(':'), seq: 0, ...nested(paths) };
    }
  };
  return { results, respondents: written, counters: await insertInBatches(connection, 'result_counts', counters()) };
}
