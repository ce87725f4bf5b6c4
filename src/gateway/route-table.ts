import { NUMBER_BLOCK_LENGTH, type SmsRoute } from '../config/sms-routes';

export type { SmsRoute } from '../config/sms-routes';

/** The number's block ("+22370"): what a subscriber record keeps to be counted per operator without its number. */
export const numberBlock = (e164: string): string => e164.slice(0, NUMBER_BLOCK_LENGTH);

/**
 * The route of a number, or of a block (no route prefix is longer than a block, so every number of a block has
 * the block's route): the longest prefix that matches wins. Undefined when no route covers it.
 */
export function routeFor(routes: readonly SmsRoute[], numberOrBlock: string): SmsRoute | undefined {
  let best: SmsRoute | undefined;
  let length = -1;
  for (const route of routes) {
    for (const prefix of route.prefixes) {
      if (prefix.length > length && numberOrBlock.startsWith(prefix)) {
        best = route;
        length = prefix.length;
      }
    }
  }
  return best;
}

/** A number's block when a route covers it; undefined when none does (the number is refused). */
export const coveredBlock = (routes: readonly SmsRoute[], e164: string): string | undefined =>
  routeFor(routes, e164) ? numberBlock(e164) : undefined;
