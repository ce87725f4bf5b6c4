import { csvCell } from '../shared/csv-cell';
import { insideWindow } from './callback-policy';
import type { CallbackRequest } from './hotline-store';
import { median } from '../shared/median';

export interface HotlineFigures {
  from: string;
  to: string;
  total: number;
  byStatus: Record<string, number>;
  byUrgency: Record<string, number>;
  byRegion: Record<string, number>;
  byLanguage: Record<string, number>;
  byOutcome: Record<string, number>;
  /** Minutes from the request to the first call attempt; null without attempts. */
  medianMinutesToFirstAttempt: number | null;
  /** Of requests with an attempt: share whose first attempt was inside the caller's window and by its due time. */
  shareHandledInWindow: number | null;
  perDay: Array<{ day: string; count: number }>;
}

/** The first call came inside the caller's window, no later than due. */
export const handledInWindow = (request: Pick<CallbackRequest, 'firstAttemptAt' | 'window' | 'dueAt'>): boolean | null =>
  request.firstAttemptAt
    ? insideWindow(request.window, request.firstAttemptAt) && request.firstAttemptAt.getTime() <= request.dueAt.getTime()
    : null;

const countBy = (requests: readonly CallbackRequest[], key: (request: CallbackRequest) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const value = key(request) || 'unknown';
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
};

/** Pure: the figures admins and partners see, from requests without their numbers. */
export function hotlineFigures(requests: readonly CallbackRequest[], from: Date, to: Date): HotlineFigures {
  const attempted = requests.filter((request) => request.firstAttemptAt);
  const perDay = new Map<string, number>();
  for (let day = new Date(from); day < to; day = new Date(day.getTime() + 86_400_000)) perDay.set(day.toISOString().slice(0, 10), 0);
  for (const request of requests) perDay.set(request.day, (perDay.get(request.day) ?? 0) + 1);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    total: requests.length,
    byStatus: countBy(requests, (request) => request.status),
    byUrgency: countBy(requests, (request) => request.urgency),
    byRegion: countBy(requests, (request) => request.region),
    byLanguage: countBy(requests, (request) => request.language),
    byOutcome: countBy(
      requests.filter((request) => request.outcome),
      (request) => request.outcome ?? '',
    ),
    medianMinutesToFirstAttempt: median(
      attempted.map((request) => ((request.firstAttemptAt as Date).getTime() - request.createdAt.getTime()) / 60_000),
    ),
    shareHandledInWindow: attempted.length ? attempted.filter((request) => handledInWindow(request)).length / attempted.length : null,
    perDay: [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, count]) => ({ day, count })),
  };
}

const CSV_COLUMNS = [
  'reference',
  'created_at',
  'language',
  'region',
  'topic',
  'urgency',
  'channel',
  'status',
  'outcome',
  'due_at',
  'first_attempt_at',
  'attempts',
  'closed_at',
  'handled_in_window',
  'joined_requests',
] as const;

/** One line per request, without numbers or notes: what may leave the hotline. */
export function hotlineCsv(requests: readonly CallbackRequest[]): string {
  const iso = (at: Date | null): string => (at ? at.toISOString() : '');
  const lines = requests.map((request) =>
    [
      request._id,
      iso(request.createdAt),
      request.language,
      request.region,
      request.topic,
      request.urgency,
      request.channel,
      request.status,
      request.outcome,
      iso(request.dueAt),
      iso(request.firstAttemptAt),
      request.attempts.length,
      iso(request.closedAt),
      handledInWindow(request),
      request.joined.length,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${CSV_COLUMNS.join(',')}\r\n${lines.map((line) => `${line}\r\n`).join('')}`;
}
