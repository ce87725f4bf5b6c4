import type { CampaignStore } from '../campaigns/campaign-store';
import type { MessageStore } from '../campaigns/message-store';
import type { HotlineStore } from '../hotline/hotline-store';
import type { RespondentProfiles } from '../results/respondent-profiles';
import type { ResultsStore } from '../results/results-store';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import type { IndicatorRow, MonthInputs } from './indicators';
import { monthIndicators } from './indicators';

export interface IndicatorSources {
  campaigns: Pick<CampaignStore, 'partnersOf'>;
  messages: Pick<MessageStore, 'acceptedByRecipient' | 'deliveredBetween'>;
  hotline: Pick<HotlineStore, 'createdBetween' | 'reportsBetween'>;
  results: Pick<ResultsStore, 'quizByRespondent'>;
  profiles: Pick<RespondentProfiles, 'regionsOf'>;
  subscribers: Pick<SubscriberStore, 'regionsOf'>;
  sessions: { sessionsByCaller(fromDay: string, toDay: string): Promise<Array<{ phoneHash: string; sessions: number }>> };
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
export const isMonth = (value: string): boolean => MONTH.test(value);
const startOf = (month: string): Date => new Date(`${month}-01T00:00:00Z`);
const nextMonth = (month: string): string => {
  const start = startOf(month);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
};

/** The months from `from` to `to`, both included. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  for (let month = from; month <= to; month = nextMonth(month)) months.push(month);
  return months;
}

/**
 * A person's region: the one they gave in a USSD profile, else the one their subscription carries.
 * Both are read by key (the keyed phone hash), in chunks: two reads instead of a join.
 */
async function regionsOf(sources: IndicatorSources, hashes: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(hashes)];
  const given = await sources.profiles.regionsOf(unique);
  const subscribed = await sources.subscribers.regionsOf(unique.filter((hash) => !given.has(hash)));
  return new Map([...subscribed, ...given]);
}

/** One month's inputs from the stores: aggregated by the server per person, then joined to a region. */
export async function monthInputs(sources: IndicatorSources, month: string): Promise<MonthInputs> {
  const from = startOf(month);
  const to = startOf(nextMonth(month));
  const [fromDay, toDay] = [`${month}-01`, `${month}-31`];
  const [accepted, delivered, sessions, quiz, requests, reports] = await Promise.all([
    sources.messages.acceptedByRecipient(from, to),
    sources.messages.deliveredBetween(from, to),
    sources.sessions.sessionsByCaller(fromDay, toDay),
    sources.results.quizByRespondent(fromDay, toDay),
    sources.hotline.createdBetween(from, to),
    sources.hotline.reportsBetween(from, to),
  ]);
  const regions = await regionsOf(sources, [
    ...accepted.map((row) => row.subscriber),
    ...delivered.map((row) => row.subscriber),
    ...sessions.map((row) => row.phoneHash),
    ...quiz.map((row) => row.respondent),
  ]);
  const partners = await sources.campaigns.partnersOf([...new Set(accepted.map((row) => row.campaign))]);
  const region = (hash: string): string => regions.get(hash) ?? '';
  return {
    month,
    reached: accepted.map((row) => ({ ...row, region: region(row.subscriber), partner: partners.get(row.campaign) ?? '' })),
    delivered: delivered.map((row) => ({ region: region(row.subscriber) })),
    sessions: sessions.map((row) => ({ region: region(row.phoneHash), sessions: row.sessions })),
    quiz: quiz.map((row) => ({ region: region(row.respondent), answered: row.answered, correct: row.correct })),
    requests,
    reports,
  };
}

/** Every indicator row for the months from `from` to `to`. */
export async function indicatorRows(sources: IndicatorSources, from: string, to: string): Promise<IndicatorRow[]> {
  const rows: IndicatorRow[] = [];
  // One month at a time: a month's reads are bounded by its own figures, not by the whole range.
  for (const month of monthsBetween(from, to)) rows.push(...monthIndicators(await monthInputs(sources, month)));
  return rows;
}
