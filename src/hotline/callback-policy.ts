/**
 * The hotline's rules, as pure functions: the callers' safe windows, what "due" means for each
 * urgency, and the words agents record. Mali keeps UTC all year (Africa/Bamako), so hours here are UTC.
 */

export const WINDOWS = {
  morning: { from: 8, to: 11 },
  midday: { from: 11, to: 14 },
  afternoon: { from: 14, to: 17 },
  evening: { from: 17, to: 20 },
} as const;
export type CallbackWindow = keyof typeof WINDOWS;

export const URGENCY_RANK = { child_in_danger: 0, urgent: 1, normal: 2 } as const;
export type Urgency = keyof typeof URGENCY_RANK;
/** Alerts go to the agents on duty for these. */
export const ALERTED_URGENCIES: ReadonlySet<string> = new Set(['child_in_danger', 'urgent']);
/** Minutes after the first safe moment by which the first call is due (never later than the window's end). */
const ALLOWANCE_MINUTES: Record<Urgency, number> = { child_in_danger: 30, urgent: 60, normal: 180 };

export const OPEN_STATUSES = ['new', 'claimed', 'in_progress'] as const;
export const CLOSED_STATUSES = ['completed', 'unreachable', 'cancelled'] as const;
export type RequestStatus = (typeof OPEN_STATUSES)[number] | (typeof CLOSED_STATUSES)[number];
export const isOpen = (status: string): boolean => (OPEN_STATUSES as readonly string[]).includes(status);

/** What happened on one call attempt. */
export const ATTEMPT_OUTCOMES = ['reached', 'no_answer', 'busy', 'unsafe_to_talk', 'wrong_number'] as const;

/** How a request ends, aligned with the referral pathways; each maps to a closed status. */
export const CLOSING_OUTCOMES = {
  information_given: 'completed',
  referred_police: 'completed',
  referred_social_services: 'completed',
  referred_health: 'completed',
  referred_shelter_ngo: 'completed',
  referred_labour_inspection: 'completed',
  no_action_needed: 'completed',
  unreachable: 'unreachable',
  cancelled: 'cancelled',
} as const satisfies Record<string, (typeof CLOSED_STATUSES)[number]>;
export type ClosingOutcome = keyof typeof CLOSING_OUTCOMES;

const HOUR = 3_600_000;
const windowOf = (window: string) => WINDOWS[window as CallbackWindow] ?? WINDOWS.morning;
const urgencyOf = (urgency: string): Urgency => (urgency in URGENCY_RANK ? (urgency as Urgency) : 'normal');
export const urgencyRank = (urgency: string): number => URGENCY_RANK[urgencyOf(urgency)];

/** True when `at` falls inside the caller's window (any day). */
export function insideWindow(window: string, at: Date): boolean {
  const { from, to } = windowOf(window);
  const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
  return hour >= from && hour < to;
}

/** The first moment at or after `at` when the caller said it is safe to call. */
export function firstSafeMoment(window: string, at: Date): Date {
  if (insideWindow(window, at)) return at;
  const { from } = windowOf(window);
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), from));
  return start.getTime() > at.getTime() ? start : new Date(start.getTime() + 24 * HOUR);
}

/** When the first call is due: soon after the first safe moment, by urgency, inside the window. */
export function dueTime(window: string, urgency: string, createdAt: Date): Date {
  const start = firstSafeMoment(window, createdAt);
  const { to } = windowOf(window);
  const windowEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate(), to);
  return new Date(Math.min(start.getTime() + ALLOWANCE_MINUTES[urgencyOf(urgency)] * 60_000, windowEnd));
}

/** The higher of two urgencies (a joined request can only become more urgent). */
export const moreUrgent = (a: string, b: string): string => (urgencyRank(b) < urgencyRank(a) ? b : a);
