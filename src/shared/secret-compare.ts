import { timingSafeEqual } from 'node:crypto';

/** Compares a given secret with the expected one in constant time; anything not a string fails. */
export function secretMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
