/**
 * Quiet hours as pure functions (Bamako = UTC): messages go out only between `from` and `to` each
 * day. from == to means "any time"; `to` before `from` is a window across midnight.
 */
export interface SendWindow {
  from: string;
  to: string;
}

const DAY = 86_400_000;
const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const dayStart = (at: Date): number => Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());

/** The open interval [start, end) that contains `at`, or the next one. */
function openingAtOrAfter(window: SendWindow, at: Date): { start: number; end: number } {
  const from = minutes(window.from) * 60_000;
  const to = minutes(window.to) * 60_000;
  if (from === to) return { start: at.getTime(), end: Number.POSITIVE_INFINITY };
  const today = dayStart(at);
  const candidates = [-1, 0, 1].map((offset) => {
    const start = today + offset * DAY + from;
    return { start, end: to > from ? start - from + to : start - from + DAY + to };
  });
  const t = at.getTime();
  const open = candidates.find((c) => t >= c.start && t < c.end);
  if (open) return { start: t, end: open.end };
  return candidates.find((c) => c.start > t) ?? { start: today + DAY + from, end: today + DAY + (to > from ? to : DAY + to) };
}

export const isOpen = (window: SendWindow, at: Date): boolean => openingAtOrAfter(window, at).start === at.getTime();

/** The first moment at or after `at` when sending is allowed. */
export const nextOpen = (window: SendWindow, at: Date): Date => new Date(openingAtOrAfter(window, at).start);

/** `at` moved forward by `ms` of open time: a send spread over hours pauses through the night. */
export function advanceOpenTime(window: SendWindow, at: Date, ms: number): Date {
  let { start, end } = openingAtOrAfter(window, at);
  let remaining = ms;
  while (start + remaining >= end) {
    remaining -= end - start;
    ({ start, end } = openingAtOrAfter(window, new Date(end)));
  }
  return new Date(start + remaining);
}
