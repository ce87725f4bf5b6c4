import type { Logger } from '../platform/logger';
import type { CaseReport, HotlineStore } from './hotline-store';
import { insertUnderFreeCode } from './reference-codes';

/** An anonymous report as a channel hands it over: the code the caller was told, and what made it. */
type Derived = 'createdAt' | 'day' | 'aliases' | 'toldReference' | 'eventKey' | '_id';
export type ReportInput = Omit<CaseReport, Derived> & { reference: string; eventKey: string };

export interface ReportDeps {
  store: HotlineStore;
  freshCode(): Promise<string>;
  logger: Logger;
}

/**
 * Keeps an anonymous report once per event, under the code the caller was told when it is free.
 * A replay (a resent hop, a job run twice) finds the report it stored; a code already taken by
 * another record gives a fresh one (the told code is kept on the report, `toldReference`). Returns
 * the code it is stored under.
 */
export async function recordReport(deps: ReportDeps, input: ReportInput, at: Date): Promise<string> {
  const { reference, ...fields } = input;
  const claim = await deps.store.claimEvent(input.eventKey, reference, at);
  const first = claim.reference;
  const insert = (code: string) =>
    deps.store.insertReport({ ...fields, _id: code, ...(code !== first ? { toldReference: first } : {}), createdAt: at });
  const stored = await insertUnderFreeCode(first, insert, () => deps.freshCode());
  if (stored !== first) {
    await deps.store.moveClaim(input.eventKey, stored);
    deps.logger.error({ told: first, stored }, 'reference code already taken: the report is stored under a fresh one');
  }
  // A replayed hop showed the caller a newer code: it finds this report too, unless it is another's.
  const newer = reference !== stored && reference !== first;
  if (newer && !(await deps.store.findReport(reference))) await deps.store.addReportAlias(stored, reference);
  return stored;
}
