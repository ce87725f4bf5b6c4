import type { ResultQuestion } from '../flow-engine/questions';
import { PREFER_NOT_TO_SAY } from '../flow-engine/profile-fields';
import type { Cell } from '../shared/small-cells';
import type { Language, Texts } from '../texts/texts';
import { ShareChart } from '../web/charts';
import { Table } from '../web/table';
import { GROUPS, type GroupFigures } from './campaign-comparison';
import { UNKNOWN } from './contribution';
import type { Breakdown, FigureRow, QuestionFigures } from './question-figures';
import type { CampaignGroups } from './results-views';

/** A console text in the page's language (fr or en). */
export type Say = (key: string, vars?: Record<string, string>) => string;

/** What a results page needs to name things: console texts, and the flows' own texts in the same language. */
export interface Labels {
  readonly say: Say;
  readonly texts: Texts;
  readonly lang: string;
}

export const percent = (share: number | null | undefined): string =>
  share === null || share === undefined ? '-' : `${Math.round(share * 100)} %`;
const shown = (cell: string | number): string => String(cell);

export const titleOf = (labels: Labels, question: ResultQuestion): string => labels.texts.t(labels.lang, question.titleKeys.at(-1) ?? '');

export function categoryLabel(labels: Labels, question: ResultQuestion, category: string): string {
  const key = question.categories.find((entry) => entry.category === category)?.labelKey;
  return key ? labels.texts.t(labels.lang, key) : category;
}

/** A row's value as people say it: a region's or age band's name, a language, a week. */
export function valueLabel(labels: Labels, breakdown: Breakdown, value: string, languages: readonly Language[]): string {
  if (value === UNKNOWN) return labels.say('console.results.unknown');
  if (value === PREFER_NOT_TO_SAY) return labels.texts.t(labels.lang, 'profile.prefer_not');
  switch (breakdown) {
    case 'region':
      return labels.texts.t(labels.lang, `region.${value}`);
    case 'age_band':
      return labels.texts.t(labels.lang, `profile.ages.${value}`);
    case 'sex':
      return labels.texts.t(labels.lang, `profile.sexes.${value}`);
    case 'language':
      return languages.find((language) => language.code === value)?.name ?? value;
    case 'week':
      return labels.say('console.results.week_of', { day: value });
  }
}

/** A count with its share: "20 (54 %)", or just the hidden cell. */
const countWithShare = (row: FigureRow, category: string): string => {
  const cell = row.counts[category] ?? 0;
  const share = row.shares[category];
  return typeof cell === 'number' && share !== null && share !== undefined ? `${cell} (${percent(share)})` : shown(cell);
};

/** A right-answer rate with the counts behind it: "54 % (20 of 37)". */
export const rateWithCounts = (labels: Labels, correct: Cell | undefined, respondents: Cell, rate: number | null | undefined): string =>
  rate === null || rate === undefined
    ? labels.say('console.results.rate_hidden', { correct: shown(correct ?? '-'), respondents: shown(respondents) })
    : labels.say('console.results.rate', { rate: percent(rate), correct: shown(correct ?? 0), respondents: shown(respondents) });

/** The question's shares at a glance: one bar per category, the right answer in green. */
export function OverallChart(props: { labels: Labels; question: ResultQuestion; figures: QuestionFigures }) {
  const { labels, question, figures } = props;
  const rows = figures.categories.map((category) => ({
    key: category === figures.correctAnswer ? 'correct' : 'answer',
    label: categoryLabel(labels, question, category),
    share: figures.overall.shares[category] ?? null,
    shown: countWithShare(figures.overall, category),
  }));
  return <ShareChart rows={rows} title={labels.say('console.results.chart_title', { question: titleOf(labels, question) })} />;
}

/** One breakdown as a table: a row per value, a column per category (count and share), and the right answers. */
export function BreakdownTable(props: {
  labels: Labels; question: ResultQuestion; figures: QuestionFigures; breakdown: Breakdown; languages: readonly Language[];
}) {
  const { labels, question, figures, breakdown } = props;
  const rows = figures.by[breakdown];
  const quiz = figures.correctAnswer !== null;
  const columns = [
    labels.say(`console.results.by.${breakdown}`), labels.say('console.results.respondents'),
    ...figures.categories.map((category) => categoryLabel(labels, question, category)),
    ...(quiz ? [labels.say('console.results.right_answers')] : []),
  ];
  return (
    <section>
      <h2>{labels.say(`console.results.by_title.${breakdown}`)}</h2>
      {rows.length === 0 ? <p>-</p> : (
        <Table columns={columns}>
          {rows.map((row) => (
            <tr>
              <th scope="row">{valueLabel(labels, breakdown, row.value, props.languages)}</th>
              <td>{shown(row.respondents)}</td>
              {figures.categories.map((category) => <td>{countWithShare(row, category)}</td>)}
              {quiz ? <td>{rateWithCounts(labels, row.correct, row.respondents, row.correctRate)}</td> : null}
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

const groupRow = (labels: Labels, name: string, group: GroupFigures) => (
  <tr>
    <th scope="row">{labels.say(`console.results.group.${name}`)}</th>
    <td>{shown(group.respondents)}</td>
    <td>{rateWithCounts(labels, group.correct, group.respondents, group.correctRate)}</td>
  </tr>
);

/** A campaign's groups on one question: before its SMS reached them, after, never reached; each with its n. */
export function CampaignGroupsTable(props: { labels: Labels; groups: CampaignGroups }) {
  const { labels, groups } = props;
  const columns = ['group_label', 'respondents', 'right_answers'].map((key) => labels.say(`console.results.${key}`));
  return (
    <>
      <p>
        {groups.comparedAt
          ? labels.say('console.results.compared_at', {
            at: groups.comparedAt.slice(0, 16).replace('T', ' '), reached: shown(groups.reached ?? 0),
          })
          : labels.say('console.results.not_compared')}
      </p>
      <Table columns={columns}>{GROUPS.map((group) => groupRow(labels, group, groups.groups[group]))}</Table>
    </>
  );
}
