/**
 * What one respondent adds to a question's counts: pure. The counts are of respondents, not of answers: each
 * respondent is counted once per question, with their latest answer, under the profile they have now; and once
 * in each week they answered, with their latest answer of that week. A change (a new answer, a profile field)
 * is the difference between what the respondent added before and what they add now.
 */

/** A profile field nobody gave (the profile was skipped, or never offered). */
export const UNKNOWN = 'unknown';
/** The splits a question's figures are broken down by, besides the week. */
export const SPLITS = ['region', 'language', 'age_band', 'sex'] as const;
export type Split = (typeof SPLITS)[number];
/** Counts of all respondents (no filter), or of the respondents of one region. */
export const ALL = 'all';
export const regionScope = (region: string): string => `region=${region}`;

/** One answer as kept with the respondent: the call (a prefix of its keyed hash), when, what. */
export interface KeptAnswer {
  readonly sitting: string;
  readonly at: Date;
  readonly category: string;
  readonly correct?: boolean;
  readonly language: string;
}

/** The profile a respondent was counted under: each field's value, or "unknown". */
export interface CountedProfile {
  readonly region: string;
  readonly age_band: string;
  readonly sex: string;
}

/** Counter document -> field path ("n.region.kayes.yes", "k.week.2026-03-02") -> change. */
export type CountChanges = Map<string, Map<string, number>>;

/** The counter document of one question and scope (all respondents, or one region's). */
export const countsDocId = (flow: string, result: string, scope: string): string => `${flow}:${result}:${scope}`;

/** The Monday (UTC, Bamako's time) of the week `at` falls in, as YYYY-MM-DD. */
export function weekOf(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

/** The latest of some answers (the last one given when two share a time). */
export function latestOf(answers: readonly KeptAnswer[]): KeptAnswer | undefined {
  let latest: KeptAnswer | undefined;
  for (const answer of answers) if (!latest || answer.at.getTime() >= latest.at.getTime()) latest = answer;
  return latest;
}

function add(changes: CountChanges, doc: string, path: string, by: number): void {
  const paths = changes.get(doc) ?? new Map<string, number>();
  const next = (paths.get(path) ?? 0) + by;
  if (next === 0) paths.delete(path);
  else paths.set(path, next);
  if (paths.size) changes.set(doc, paths);
  else changes.delete(doc);
}

/** One respondent's counts on one question: +1 in every cell they are counted in. */
export function contributionOf(
  question: { readonly flow: string; readonly result: string },
  answers: readonly KeptAnswer[],
  profile: CountedProfile,
): CountChanges {
  const changes: CountChanges = new Map();
  const latest = latestOf(answers);
  if (!latest) return changes;
  const weeks = new Map<string, KeptAnswer[]>();
  for (const answer of answers) weeks.set(weekOf(answer.at), [...(weeks.get(weekOf(answer.at)) ?? []), answer]);
  for (const scope of [ALL, regionScope(profile.region)]) {
    const doc = countsDocId(question.flow, question.result, scope);
    const count = (split: string, value: string, answer: KeptAnswer): void => {
      add(changes, doc, `n.${split}.${value}.${answer.category}`, 1);
      if (answer.correct === true) add(changes, doc, `k.${split}.${value}`, 1);
    };
    count(ALL, ALL, latest);
    // Within a region's counts, the split by region says nothing.
    if (scope === ALL) count('region', profile.region, latest);
    count('language', latest.language || UNKNOWN, latest);
    count('age_band', profile.age_band, latest);
    count('sex', profile.sex, latest);
    for (const [week, given] of weeks) count('week', week, latestOf(given) as KeptAnswer);
  }
  return changes;
}

/** What turns the counts with `before` into the counts with `after`: only the cells that change. */
export function changesBetween(before: CountChanges, after: CountChanges): CountChanges {
  const changes: CountChanges = new Map();
  for (const [doc, paths] of after) for (const [path, by] of paths) add(changes, doc, path, by);
  for (const [doc, paths] of before) for (const [path, by] of paths) add(changes, doc, path, -by);
  return changes;
}
