import { csvCell } from '../shared/csv-cell';
import { isSmall as small, SMALLEST_SHOWN, SUPPRESSED, suppressed, type Cell } from '../shared/small-cells';
import { hotlineFigures, type HotlineFigures } from './hotline-figures';
import type { CallbackRequest } from './hotline-store';

// Partners' small cells follow shared/small-cells (the results pages use the same rule).
export type { Cell } from '../shared/small-cells';

/** What partners see: counts by day at the finest, small cells suppressed, no reference codes, no times. */
export interface PartnerFigures {
  from: string;
  to: string;
  total: Cell;
  byStatus: Record<string, Cell>;
  byUrgency: Record<string, Cell>;
  byRegion: Record<string, Cell>;
  byLanguage: Record<string, Cell>;
  byOutcome: Record<string, Cell>;
  /** Null when fewer than 5 requests had an attempt. */
  medianMinutesToFirstAttempt: number | null;
  shareHandledInWindow: number | null;
  perDay: Array<{ day: string; count: Cell }>;
}

const record = (counts: Record<string, number>): Record<string, Cell> => Object.fromEntries(suppressed(Object.entries(counts)));

/** Pure: the partners' figures for requests created in [from, to). */
export function partnerFigures(requests: readonly CallbackRequest[], from: Date, to: Date): PartnerFigures {
  const full: HotlineFigures = hotlineFigures(requests, from, to);
  const attempted = requests.filter((request) => request.firstAttemptAt).length;
  const enough = attempted >= SMALLEST_SHOWN;
  return {
    from: full.from.slice(0, 10),
    to: full.to.slice(0, 10),
    total: small(full.total) ? SUPPRESSED : full.total,
    byStatus: record(full.byStatus),
    byUrgency: record(full.byUrgency),
    byRegion: record(full.byRegion),
    byLanguage: record(full.byLanguage),
    byOutcome: record(full.byOutcome),
    medianMinutesToFirstAttempt: enough ? full.medianMinutesToFirstAttempt : null,
    shareHandledInWindow: enough ? full.shareHandledInWindow : null,
    perDay: suppressed(full.perDay.map((point) => [point.day, point.count] as const)).map(([day, count]) => ({ day, count })),
  };
}

/** The partners' CSV: one line per breakdown cell (dimension, value, count), the same cells as their page. */
export function partnerCsv(figures: PartnerFigures): string {
  const rows: Array<[string, string, Cell]> = [['total', '', figures.total]];
  const dimensions = {
    status: figures.byStatus,
    urgency: figures.byUrgency,
    region: figures.byRegion,
    language: figures.byLanguage,
    outcome: figures.byOutcome,
  };
  for (const [dimension, counts] of Object.entries(dimensions)) {
    for (const [value, count] of Object.entries(counts)) rows.push([dimension, value, count]);
  }
  for (const point of figures.perDay) rows.push(['day', point.day, point.count]);
  return `dimension,value,count\r\n${rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('')}`;
}
