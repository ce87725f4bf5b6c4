import { handledInWindow } from '../hotline/hotline-figures';
import type { CallbackRequest, CaseReport } from '../hotline/hotline-store';
import { SMALLEST_SHOWN, SUPPRESSED, suppressed, type Cell } from '../shared/small-cells';
import { median } from '../shared/median';

export const AXES = ['prevention', 'protection', 'prosecution', 'partnership'] as const;
export type Axis = (typeof AXES)[number];
export const ALL_REGIONS = 'all';

/** One cell of the export: an indicator for a month and region (or all), maybe split by a breakdown. */
export interface IndicatorRow {
  month: string;
  region: string;
  axis: Axis;
  indicator: string;
  /** A case report's type, a referral's pathway, a partner organisation; '' for the indicator itself. */
  breakdown: string;
  /** A count, a share (0..1) or minutes; '<5' or '5+' when suppressed; null when it cannot be given (n < 5 or none). */
  value: Cell | null;
  /** For shares and medians: how many it is computed over (suppressed as counts are). */
  denominator: Cell | null;
}

/** What one month's stores hold, already joined to a region ('' when unknown) and without numbers or codes. */
export interface MonthInputs {
  month: string;
  /** Accepted sends per recipient and campaign. */
  reached: ReadonlyArray<{ region: string; subscriber: string; campaign: string; partner: string; messages: number }>;
  delivered: ReadonlyArray<{ region: string }>;
  sessions: ReadonlyArray<{ region: string; sessions: number }>;
  quiz: ReadonlyArray<{ region: string; answered: number; correct: number }>;
  requests: ReadonlyArray<Pick<CallbackRequest, 'region' | 'createdAt' | 'firstAttemptAt' | 'window' | 'dueAt' | 'outcome'>>;
  reports: ReadonlyArray<Pick<CaseReport, 'kind' | 'region'>>;
}

/** How requests are closed when referred; `referred_police` is the police or gendarmerie. */
export const REFERRAL_PREFIX = 'referred_';
export const POLICE_OUTCOME = 'referred_police';

/** Indicators that count people (or what one person did): their cells of 1 to 4 are suppressed. */
const PEOPLE = new Set(['people_reached_sms', 'ussd_sessions', 'callback_requests', 'referrals', 'case_reports', 'cases_referred_police']);

const regionOf = (region: string): string => region.trim().toLowerCase() || 'unknown';
const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** A share or median is given only over 5 or more; its denominator is a count like any other. */
const rated = (value: number | null, n: number): Pick<IndicatorRow, 'value' | 'denominator'> =>
  n >= SMALLEST_SHOWN ? { value, denominator: n } : { value: null, denominator: n === 0 ? 0 : SUPPRESSED };

type Measure = (rows: MonthInputs) => Pick<IndicatorRow, 'value' | 'denominator'>;
const count = (value: number): Pick<IndicatorRow, 'value' | 'denominator'> => ({ value, denominator: null });
const sum = <T>(rows: readonly T[], of: (row: T) => number): number => rows.reduce((total, row) => total + of(row), 0);
const referred = (m: MonthInputs) => m.requests.filter((r) => r.outcome?.startsWith(REFERRAL_PREFIX));
const attempted = (m: MonthInputs) => m.requests.filter((r) => r.firstAttemptAt);
const minutesToFirstCall = (r: MonthInputs['requests'][number]): number =>
  ((r.firstAttemptAt as Date).getTime() - r.createdAt.getTime()) / 60_000;

/** One indicator's value for one set of inputs (a month's, or a month's in one region). */
const MEASURES: ReadonlyArray<{ axis: Axis; indicator: string; measure: Measure }> = [
  { axis: 'prevention', indicator: 'people_reached_sms', measure: (m) => count(new Set(m.reached.map((r) => r.subscriber)).size) },
  { axis: 'prevention', indicator: 'sms_delivered', measure: (m) => count(m.delivered.length) },
  { axis: 'prevention', indicator: 'ussd_sessions', measure: (m) => count(sum(m.sessions, (s) => s.sessions)) },
  {
    axis: 'prevention',
    indicator: 'quiz_correct_rate',
    measure: (m) => {
      const answered = sum(m.quiz, (q) => q.answered);
      const correct = sum(m.quiz, (q) => q.correct);
      return rated(answered ? round(correct / answered, 3) : null, answered);
    },
  },
  { axis: 'protection', indicator: 'callback_requests', measure: (m) => count(m.requests.length) },
  {
    axis: 'protection',
    indicator: 'median_minutes_to_first_call',
    measure: (m) => {
      const minutes = attempted(m).map(minutesToFirstCall);
      const found = median(minutes);
      return rated(found === null ? null : round(found, 1), minutes.length);
    },
  },
  {
    axis: 'protection',
    indicator: 'share_called_in_window',
    measure: (m) => {
      const called = attempted(m);
      const inWindow = called.filter((r) => handledInWindow(r)).length;
      return rated(called.length ? round(inWindow / called.length, 3) : null, called.length);
    },
  },
  { axis: 'protection', indicator: 'referrals', measure: (m) => count(referred(m).length) },
  { axis: 'prosecution', indicator: 'case_reports', measure: (m) => count(m.reports.length) },
  {
    axis: 'prosecution',
    indicator: 'cases_referred_police',
    measure: (m) => count(m.requests.filter((r) => r.outcome === POLICE_OUTCOME).length),
  },
  { axis: 'partnership', indicator: 'messages_sent', measure: (m) => count(sum(m.reached, (r) => r.messages)) },
];

/** Breakdowns: counts of one indicator split by a key, per region as the indicator itself. */
const BREAKDOWNS: ReadonlyArray<{ axis: Axis; indicator: string; keys: (m: MonthInputs) => Array<[key: string, count: number]> }> = [
  { axis: 'protection', indicator: 'referrals', keys: (m) => referred(m).map((r) => [r.outcome ?? '', 1]) },
  { axis: 'prosecution', indicator: 'case_reports', keys: (m) => m.reports.map((r) => [r.kind || 'unknown', 1]) },
  { axis: 'partnership', indicator: 'messages_sent', keys: (m) => m.reached.map((r) => [r.partner || 'not_recorded', r.messages]) },
];

const axisOf = (indicator: string): Axis =>
  (MEASURES.find((m) => m.indicator === indicator) ?? BREAKDOWNS.find((b) => b.indicator === indicator))?.axis ?? 'prevention';

function inRegion(inputs: MonthInputs, region: string): MonthInputs {
  const here = <T extends { region: string }>(rows: readonly T[]): T[] => rows.filter((row) => regionOf(row.region) === region);
  return {
    month: inputs.month,
    reached: here(inputs.reached),
    delivered: here(inputs.delivered),
    sessions: here(inputs.sessions),
    quiz: here(inputs.quiz),
    requests: here(inputs.requests),
    reports: here(inputs.reports),
  };
}

const tally = (pairs: Array<[string, number]>): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const [key, count] of pairs) counts.set(key, (counts.get(key) ?? 0) + count);
  return counts;
};

/**
 * Pure: one month's indicators, for all regions and for each region seen. Counts of people from 1 to 4
 * are shown as "<5"; where one region's "<5" could be worked out from the total, the next smallest is
 * hidden as "5+" (the partners' rule, partner-figures.ts).
 */
export function monthIndicators(inputs: MonthInputs): IndicatorRow[] {
  const all = [inputs.reached, inputs.delivered, inputs.sessions, inputs.quiz, inputs.requests, inputs.reports];
  const regions = [...new Set(all.flatMap((rows) => rows.map((row) => regionOf(row.region))))].sort();
  const scopes: Array<[string, MonthInputs]> = [
    [ALL_REGIONS, inputs],
    ...regions.map((region): [string, MonthInputs] => [region, inRegion(inputs, region)]),
  ];
  const rows: IndicatorRow[] = [];
  const suppress = (indicator: string, breakdown: string, cells: Array<[string, Pick<IndicatorRow, 'value' | 'denominator'>]>): void => {
    const people = PEOPLE.has(indicator);
    const [total, ...perRegion] = cells;
    const counts = perRegion.map(([region, cell]) => [region, typeof cell.value === 'number' ? cell.value : 0] as const);
    const shown = people ? new Map(suppressed(counts)) : new Map(counts);
    const axis = axisOf(indicator);
    const totalValue = total?.[1].value ?? 0;
    const smallTotal = people && typeof totalValue === 'number' && totalValue > 0 && totalValue < SMALLEST_SHOWN;
    const denominator = total?.[1].denominator ?? null;
    const value = smallTotal ? SUPPRESSED : totalValue;
    rows.push({ month: inputs.month, region: ALL_REGIONS, axis, indicator, breakdown, value, denominator });
    for (const [region, cell] of perRegion) {
      const value = typeof cell.value === 'number' && cell.denominator === null ? (shown.get(region) ?? cell.value) : cell.value;
      rows.push({ month: inputs.month, region, axis, indicator, breakdown, value, denominator: cell.denominator });
    }
  };
  for (const { indicator, measure } of MEASURES) suppress(indicator, '', scopes.map(([region, scoped]) => [region, measure(scoped)]));
  for (const { indicator, keys } of BREAKDOWNS) {
    const perScope = scopes.map(([region, scoped]) => [region, tally(keys(scoped))] as const);
    for (const key of [...(perScope[0]?.[1].keys() ?? [])].sort()) {
      suppress(indicator, key, perScope.map(([region, counts]) => [region, { value: counts.get(key) ?? 0, denominator: null }]));
    }
  }
  // Campaigns that sent in the month, by partner organisation: not people, and not per region (a campaign reaches several).
  const partnerOf = new Map(inputs.reached.map((r) => [r.campaign, r.partner || 'not_recorded']));
  const campaigns = tally([...partnerOf.values()].map((partner) => [partner, 1]));
  const campaignRow = (breakdown: string, value: number): IndicatorRow =>
    ({ month: inputs.month, region: ALL_REGIONS, axis: 'partnership', indicator: 'campaigns', breakdown, value, denominator: null });
  rows.push(campaignRow('', partnerOf.size));
  for (const [partner, n] of [...campaigns].sort(([a], [b]) => a.localeCompare(b))) rows.push(campaignRow(partner, n));
  return rows;
}

export const INDICATOR_COLUMNS = ['month', 'region', 'axis', 'indicator', 'breakdown', 'value', 'denominator'] as const;
