import type { ResultQuestion } from '../flow-engine/questions';
import { AGE_BANDS, PREFER_NOT_TO_SAY, REGIONS, SEXES } from '../flow-engine/profile-fields';
import { cellOf, SMALLEST_SHOWN, SUPPRESSED, suppressed, type Cell } from '../shared/small-cells';
import { ALL, UNKNOWN, type Split } from './contribution';
import type { StoredCounts } from './result-counts';

/** The rows a question's figures are broken down into: the profile's splits, the language, the week. */
export const BREAKDOWNS = ['region', 'language', 'age_band', 'sex', 'week'] as const satisfies ReadonlyArray<Split | 'week'>;
export type Breakdown = (typeof BREAKDOWNS)[number];

/** What a region filter may name: a region, "prefer not to say", or "unknown" (never given). */
export const REGION_FILTERS: readonly string[] = [...REGIONS, PREFER_NOT_TO_SAY, UNKNOWN];

/** One row of figures: respondents, and per category their count and share; a quiz's right answers. */
export interface FigureRow {
  readonly value: string;
  readonly respondents: Cell;
  readonly counts: Readonly<Record<string, Cell>>;
  /** A count's share of the row's respondents (0..1); null where the count is hidden. */
  readonly shares: Readonly<Record<string, number | null>>;
  /** Quiz questions: respondents whose answer is right, and its share (null when it would show a count under 5). */
  readonly correct?: Cell;
  readonly correctRate?: number | null;
}

export interface QuestionFigures {
  readonly flow: string;
  readonly result: string;
  readonly categories: readonly string[];
  readonly correctAnswer: string | null;
  /** The region the figures are of, or null: every respondent. */
  readonly region: string | null;
  readonly overall: FigureRow;
  readonly by: Readonly<Record<Breakdown, readonly FigureRow[]>>;
}

/** The order rows of a breakdown are shown in: the profile's own order, then "prefer not to say" and "unknown". */
const ORDER: Readonly<Partial<Record<Breakdown, readonly string[]>>> = {
  region: [...REGIONS, PREFER_NOT_TO_SAY, UNKNOWN],
  age_band: [...AGE_BANDS, PREFER_NOT_TO_SAY, UNKNOWN],
  sex: [...SEXES, PREFER_NOT_TO_SAY, UNKNOWN],
};

function sortedValues(breakdown: Breakdown, values: string[]): string[] {
  const order = ORDER[breakdown];
  if (!order) return values.sort();
  const rank = (value: string): number => (order.includes(value) ? order.indexOf(value) : order.length);
  return values.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * A right-answer rate with its counts: hidden ("<5"/"5+", null rate) when the right or the wrong ones number 1 to
 * 4, since the rate and the total would show them.
 */
export function correctCell(correct: number, respondents: number): { correct: Cell; correctRate: number | null } {
  if (respondents < SMALLEST_SHOWN) return { correct: SUPPRESSED, correctRate: null };
  const right: Cell = suppressed([['right', correct], ['wrong', respondents - correct]])[0]?.[1] ?? SUPPRESSED;
  // A right count left shown means the wrong ones are none or 5 and more.
  return { correct: right, correctRate: typeof right === 'number' ? correct / respondents : null };
}

/** One row from a category -> count map: under 5 respondents every cell is "<5"; else small cells suppressed. */
export function figureRow(
  value: string,
  categories: readonly string[],
  counted: Readonly<Record<string, number>>,
  correct?: number,
): FigureRow {
  const names = [...categories, ...Object.keys(counted).filter((category) => !categories.includes(category)).sort()];
  const respondents = names.reduce((sum, category) => sum + (counted[category] ?? 0), 0);
  const few = respondents < SMALLEST_SHOWN;
  const cells = new Map<string, Cell>(
    few ? names.map((name) => [name, SUPPRESSED]) : suppressed(names.map((name) => [name, counted[name] ?? 0])),
  );
  const counts = Object.fromEntries(cells);
  const shares = Object.fromEntries(names.map((name) => {
    const cell = cells.get(name);
    return [name, typeof cell === 'number' ? cell / respondents : null];
  }));
  return {
    value,
    respondents: few ? SUPPRESSED : respondents,
    counts,
    shares,
    ...(correct === undefined ? {} : correctCell(correct, respondents)),
  };
}

/** A question's figures from its counts (none yet: all zero), small cells suppressed. */
export function questionFigures(question: ResultQuestion, stored: StoredCounts | undefined, region: string | null): QuestionFigures {
  const categories = question.categories.map((entry) => entry.category);
  const quiz = question.correct !== undefined;
  const rowOf = (split: string, value: string): FigureRow =>
    figureRow(value, categories, stored?.n?.[split]?.[value] ?? {}, quiz ? (stored?.k?.[split]?.[value] ?? 0) : undefined);
  const rowsOf = (breakdown: Breakdown): FigureRow[] => {
    if (breakdown === 'region' && region !== null) return [];
    const values = Object.keys(stored?.n?.[breakdown] ?? {});
    return sortedValues(breakdown, values).map((value) => rowOf(breakdown, value)).filter((row) => row.respondents !== 0);
  };
  return {
    flow: question.flow,
    result: question.result,
    categories,
    correctAnswer: question.correct ?? null,
    region,
    overall: rowOf(ALL, ALL),
    by: Object.fromEntries(BREAKDOWNS.map((breakdown) => [breakdown, rowsOf(breakdown)])) as Record<Breakdown, FigureRow[]>,
  };
}

/** A question's respondents from its counts, for the list of questions. */
export function respondentsOf(stored: StoredCounts | undefined): Cell {
  const counted = stored?.n?.[ALL]?.[ALL] ?? {};
  return cellOf(Object.values(counted).reduce((sum, count) => sum + count, 0));
}
