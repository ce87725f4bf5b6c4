import { csvCell } from '../shared/csv-cell';
import { GROUPS, type Group } from './campaign-comparison';
import { BREAKDOWNS, type FigureRow } from './question-figures';
import type { QuestionView } from './results-views';

const rate = (share: number | null | undefined): string => (share === null || share === undefined ? '' : share.toFixed(4));
const GROUP_NAMES: Readonly<Record<Group, string>> = { before: 'before', after: 'after', notReached: 'not_reached' };

/**
 * A question's figures as CSV: one line per category of each row (all, each region, language, age band, sex, week),
 * the same suppressed cells as the page ("<5", "5+"), then one line per campaign group. No number, no hash.
 */
export function resultsCsv(view: QuestionView): string {
  const lines: Array<Array<string | number>> = [['split', 'value', 'respondents', 'category', 'count', 'share', 'correct_rate']];
  const rowLines = (split: string, row: FigureRow): void => {
    for (const [category, count] of Object.entries(row.counts)) {
      lines.push([split, row.value, row.respondents, category, count, rate(row.shares[category]), rate(row.correctRate)]);
    }
  };
  rowLines('all', view.figures.overall);
  for (const breakdown of BREAKDOWNS) for (const row of view.figures.by[breakdown]) rowLines(breakdown, row);
  for (const campaign of view.campaigns) {
    for (const group of GROUPS) {
      const figures = campaign.groups[group];
      const share = rate(figures.correctRate);
      lines.push([`campaign:${campaign.campaign}`, GROUP_NAMES[group], figures.respondents, 'correct', figures.correct, share, share]);
    }
  }
  return lines.map((line) => `${line.map(csvCell).join(',')}\r\n`).join('');
}
