import type { CaseReport } from '../hotline/hotline-store';
import { csvCell } from '../shared/csv-cell';
import { INDICATOR_COLUMNS, type IndicatorRow } from './indicators';

type Value = string | number | boolean | null | undefined;
const lines = (rows: ReadonlyArray<readonly Value[]>): string => rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');

/** The indicators as CSV: one line per cell, the JSON's rows in the same order. */
export function indicatorCsv(rows: readonly IndicatorRow[]): string {
  return `${INDICATOR_COLUMNS.join(',')}\r\n${lines(rows.map((row) => INDICATOR_COLUMNS.map((column) => row[column] ?? '')))}`;
}

/**
 * Case reports under field names of IOM's Human Trafficking Case Data Standard where one applies. Anonymous by
 * construction: built from the report's type, region and day only (the store's `reportsBetween` reads no code);
 * age band and sex are never asked with a report, so those columns stay empty.
 */
export const HTCDS_COLUMNS = ['Date_Of_Report', 'Type_Of_Exploitation', 'Region', 'Age_Band', 'Gender'] as const;

export function htcdsCsv(reports: ReadonlyArray<Pick<CaseReport, 'kind' | 'region' | 'day'>>): string {
  return `${HTCDS_COLUMNS.join(',')}\r\n${lines(reports.map((report) => [report.day, report.kind, report.region, '', '']))}`;
}
