import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import { coveredBlock, type SmsRoute } from '../gateway/route-table';
import type { OptOutSet } from './optout-set';
import type { SubscriberStore } from './subscriber-store';
import { csvRows } from './csv-rows';
import { TOPICS, isTopic } from './topics';

/** Why a row was not kept: English text for the API and the command line; a code and values for the console's languages. */
const REASONS = {
  empty_file: () => 'the file is empty',
  missing_columns: (v: Record<string, string>) => `missing column(s): ${v.columns}`,
  bad_phone: () => 'not a valid phone number',
  no_route: () => 'no SMS route covers this number (SMS_ROUTES_FILE): it could not be sent to',
  unknown_language: (v: Record<string, string>) => `unknown language "${v.value}" (one of ${v.options})`,
  no_consent_source: () => 'consent_source is empty: say where and how the person agreed',
  unknown_topic: (v: Record<string, string>) => `unknown topic (use ${v.options})`,
  bad_consent_at: () => 'consent_at is not a past date',
} as const;
export type RejectionCode = keyof typeof REASONS;
export interface Rejection {
  /** Its line in the file (1 = the header). */
  line: number;
  code: RejectionCode;
  values: Record<string, string>;
  reason: string;
}
const rejection = (line: number, code: RejectionCode, values: Record<string, string> = {}): Rejection => ({
  line,
  code,
  values,
  reason: REASONS[code](values),
});

export interface ImportReport {
  rows: number;
  imported: number;
  /** Rows of people who opted out by their own action (STOP, USSD, the gateway's opt-out): not re-subscribed. */
  optedOutByPerson: number;
  /** How many rows were not kept. */
  rejectedCount: number;
  /** The first MAX_LISTED of them, and why: a file of a million bad rows must not make a report that size. */
  rejected: Rejection[];
}
export const MAX_LISTED = 1_000;
const WRITE_BATCH = 500;

export interface ImportDeps {
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  protection: PhoneProtection;
  languages: readonly string[];
  /** Where SMS leave, by number: a number no route covers is refused. */
  routes: readonly SmsRoute[];
  now(): Date;
}

export const IMPORT_COLUMNS = { required: ['phone', 'language', 'consent_source'], optional: ['region', 'topics', 'consent_at'] } as const;

/**
 * Imports subscribers who consented elsewhere (a paper form, a partner's list). Every row names
 * where the consent came from; a bad row is reported by its line and the good ones are kept.
 * A person's own opt-out (STOP, USSD) is never undone by an import, whatever date the row carries:
 * those rows are skipped and counted. Re-importing the same file changes nothing a later choice decided.
 */
export async function importSubscribers(
  deps: ImportDeps,
  csv: string | AsyncIterable<string>,
  onProgress: (done: number, total: number) => void | Promise<void> = () => undefined,
  /** Rows expected (the file's line count less its header), for the progress until the end is reached. */
  expectedRows = 0,
): Promise<ImportReport> {
  const rows = csvRows(typeof csv === 'string' ? [csv] : csv);
  const first = await rows.next();
  if (first.done) return { rows: 0, imported: 0, optedOutByPerson: 0, rejectedCount: 1, rejected: [rejection(1, 'empty_file')] };
  const columns = first.value.cells.map((name) => name.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.required.filter((name) => !columns.includes(name));
  if (missing.length) {
    let count = 0;
    for await (const row of rows) if (row) count += 1;
    return {
      rows: count,
      imported: 0,
      optedOutByPerson: 0,
      rejectedCount: 1,
      rejected: [rejection(1, 'missing_columns', { columns: missing.join(', ') })],
    };
  }
  const at = (name: string, cells: string[]) => (cells[columns.indexOf(name)] ?? '').trim();

  const report: ImportReport = { rows: 0, imported: 0, optedOutByPerson: 0, rejectedCount: 0, rejected: [] };
  // Good rows are written WRITE_BATCH at a time: one round trip each, not one per row.
  let pending: Parameters<SubscriberStore['optInManyOnBehalf']>[0][number][] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const outcomes = await deps.subscribers.optInManyOnBehalf(pending);
    await deps.optouts.remove(...pending.filter((_, i) => outcomes[i] === 'changed').map((p) => p.change.phoneHash));
    for (const outcome of outcomes) {
      if (outcome === 'opted_out_by_person') report.optedOutByPerson += 1;
      else report.imported += 1;
    }
    pending = [];
  };
  for await (const row of rows) {
    report.rows += 1;
    const phone = toE164(at('phone', row.cells));
    const block = phone ? coveredBlock(deps.routes, phone) : undefined;
    const language = at('language', row.cells).toLowerCase();
    const source = at('consent_source', row.cells);
    const topics = at('topics', row.cells).split(/[|\s]+/).map((topic) => topic.toLowerCase()).filter(Boolean);
    const consentAt = at('consent_at', row.cells) ? new Date(at('consent_at', row.cells)) : deps.now();
    const refused = !phone
      ? rejection(row.line, 'bad_phone')
      : !block
        ? rejection(row.line, 'no_route')
      : !deps.languages.includes(language)
        ? rejection(row.line, 'unknown_language', { value: language.slice(0, 10), options: deps.languages.join(', ') })
        : !source
          ? rejection(row.line, 'no_consent_source')
          : topics.some((topic) => !isTopic(topic))
            ? rejection(row.line, 'unknown_topic', { options: TOPICS.join(', ') })
            : Number.isNaN(consentAt.getTime()) || consentAt > deps.now()
              ? rejection(row.line, 'bad_consent_at')
              : undefined;
    if (refused || !phone) {
      report.rejectedCount += 1;
      if (report.rejected.length < MAX_LISTED) report.rejected.push(refused ?? rejection(row.line, 'bad_phone'));
    } else {
      const change = {
        phoneHash: deps.protection.hash(phone),
        phoneSealed: deps.protection.encrypt(phone),
        ...(block ? { numberBlock: block } : {}),
        language,
        region: at('region', row.cells).toLowerCase().slice(0, 40),
        source: 'import' as const,
        evidence: `import: ${source.slice(0, 200)}`,
        topics: topics.length ? topics : [...TOPICS],
      };
      pending.push({ change, at: consentAt });
    }
    if (pending.length >= WRITE_BATCH) await flush();
    if (report.rows % 100 === 0) await onProgress(report.rows - pending.length, Math.max(expectedRows, report.rows));
  }
  await flush();
  await onProgress(report.rows, report.rows);
  return report;
}
