import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import type { OptOutSet } from './optout-set';
import type { SubscriberStore } from './subscriber-store';
import { TOPICS, isTopic } from './topics';

/** Why a row was not kept: English text for the API and the command line; a code and values for the console's languages. */
const REASONS = {
  empty_file: () => 'the file is empty',
  missing_columns: (v: Record<string, string>) => `missing column(s): ${v.columns}`,
  bad_phone: () => 'not a valid phone number',
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
const rejection = (line: number, code: RejectionCode, values: Record<string, string> = {}): Rejection => ({ line, code, values, reason: REASONS[code](values) });

export interface ImportReport {
  rows: number;
  imported: number;
  /** Rows of people who opted out by their own action (STOP, USSD, the gateway's opt-out): not re-subscribed. */
  optedOutByPerson: number;
  /** The rows that were not kept, and why. */
  rejected: Rejection[];
}

export interface ImportDeps {
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  protection: PhoneProtection;
  languages: readonly string[];
  now(): Date;
}

export const IMPORT_COLUMNS = { required: ['phone', 'language', 'consent_source'], optional: ['region', 'topics', 'consent_at'] } as const;

/**
 * RFC 4180 CSV: quoted fields, "" inside quotes, CRLF or LF. The separator is "," or, when the
 * header has ";" and no "," (spreadsheets set to French), ";". Returns rows with their line numbers.
 */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const firstLine = text.slice(0, text.search(/\r|\n|$/));
  const separator = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line += 1;
        cell += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      cells.push(cell);
      if (cells.some((value) => value.trim() !== '')) rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line += 1;
      rowLine = line;
    } else cell += c;
  }
  cells.push(cell);
  if (cells.some((value) => value.trim() !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

/**
 * Imports subscribers who consented elsewhere (a paper form, a partner's list). Every row names
 * where the consent came from; a bad row is reported by its line and the good ones are kept.
 * A person's own opt-out (STOP, USSD) is never undone by an import, whatever date the row carries:
 * those rows are skipped and counted. Re-importing the same file changes nothing a later choice decided.
 */
export async function importSubscribers(
  deps: ImportDeps,
  csv: string,
  onProgress: (done: number, total: number) => void | Promise<void> = () => undefined,
): Promise<ImportReport> {
  const [header, ...rows] = parseCsv(csv.replace(/^\uFEFF/, ''));
  if (!header) return { rows: 0, imported: 0, optedOutByPerson: 0, rejected: [rejection(1, 'empty_file')] };
  const columns = header.cells.map((name) => name.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.required.filter((name) => !columns.includes(name));
  if (missing.length) return { rows: rows.length, imported: 0, optedOutByPerson: 0, rejected: [rejection(1, 'missing_columns', { columns: missing.join(', ') })] };
  const at = (name: string, cells: string[]) => (cells[columns.indexOf(name)] ?? '').trim();

  const report: ImportReport = { rows: rows.length, imported: 0, optedOutByPerson: 0, rejected: [] };
  for (const [index, row] of rows.entries()) {
    const phone = toE164(at('phone', row.cells));
    const language = at('language', row.cells).toLowerCase();
    const source = at('consent_source', row.cells);
    const topics = at('topics', row.cells).split(/[|\s]+/).map((topic) => topic.toLowerCase()).filter(Boolean);
    const consentAt = at('consent_at', row.cells) ? new Date(at('consent_at', row.cells)) : deps.now();
    const refused = !phone
      ? rejection(row.line, 'bad_phone')
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
      report.rejected.push(refused ?? rejection(row.line, 'bad_phone'));
    } else {
      const phoneHash = deps.protection.hash(phone);
      const outcome = await deps.subscribers.optInOnBehalf(
        { phoneHash, phoneSealed: deps.protection.encrypt(phone), language, region: at('region', row.cells).toLowerCase().slice(0, 40), source: 'import', evidence: `import: ${source.slice(0, 200)}`, topics: topics.length ? topics : [...TOPICS] },
        consentAt,
      );
      if (outcome === 'changed') await deps.optouts.remove(phoneHash);
      if (outcome === 'opted_out_by_person') report.optedOutByPerson += 1;
      else report.imported += 1;
    }
    if ((index + 1) % 100 === 0 || index + 1 === rows.length) await onProgress(index + 1, rows.length);
  }
  return report;
}
