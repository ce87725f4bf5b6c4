/**
 * Small-cell suppression for published counts (hotline partners' figures, results pages): a count from 1 to 4
 * could point at a person, so it is shown as "<5".
 */

/** Below this, a count could point at a person: "<5" is shown instead. */
export const SMALLEST_SHOWN = 5;
export const SUPPRESSED = '<5';
/** A count of 5 or more hidden so that a lone "<5" cannot be worked out from the total. */
export const HIDDEN = '5+';
export type Cell = number | typeof SUPPRESSED | typeof HIDDEN;

export const isSmall = (count: number): boolean => count > 0 && count < SMALLEST_SHOWN;

/** A lone count (a total): "<5" when small. */
export const cellOf = (count: number): Cell => (isSmall(count) ? SUPPRESSED : count);

/**
 * Suppresses the small cells of one breakdown whose total is shown. A single "<5" could be worked
 * out as the total minus the others, so then the next smallest count is hidden too, as "5+".
 */
export function suppressed(counts: ReadonlyArray<readonly [string, number]>): Array<[string, Cell]> {
  const hidden = new Set(counts.filter(([, count]) => isSmall(count)).map(([key]) => key));
  const others = counts.filter(([key, count]) => count > 0 && !hidden.has(key)).sort(([, a], [, b]) => a - b);
  const next = hidden.size === 1 ? others[0] : undefined;
  return counts.map(([key, count]) => [key, hidden.has(key) ? SUPPRESSED : key === next?.[0] ? HIDDEN : count]);
}
