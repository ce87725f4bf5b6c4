import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import type { ApiRegistry } from '../staff/api-registry';
import type { AuditLog } from '../staff/audit-log';
import type { Role } from '../staff/roles';
import { htcdsCsv, indicatorCsv } from './indicator-csv';
import { indicatorRows, isMonth, monthsBetween, type IndicatorSources } from './indicator-sources';
import type { IndicatorRow } from './indicators';

/** Admins, and the coordination body's members (partner_viewer): aggregates only, small cells suppressed. */
export const INDICATOR_READERS: readonly Role[] = ['admin', 'partner_viewer'];
/** One row per case report: admins only, even though a row names no one. */
export const CASE_EXPORTERS: readonly Role[] = ['admin'];
const MOST_MONTHS = 36;

export interface IndicatorDeps {
  sources: IndicatorSources;
  audit: AuditLog;
  now(): Date;
}

export interface IndicatorPeriod {
  from: string;
  to: string;
}

/** The months asked for; by default the current month and the two before it (a quarter's meeting). */
export function periodOf(query: { from?: unknown; to?: unknown }, now: Date): IndicatorPeriod {
  const month = (at: Date): string => at.toISOString().slice(0, 7);
  const given = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw AppError.badRequest(`${name}: a month as YYYY-MM (01 to 12), given once`);
    if (!isMonth(value)) throw AppError.badRequest(`${name}: a month as YYYY-MM (01 to 12), not "${value.slice(0, 20)}"`);
    return value;
  };
  const to = given(query.to, 'to') ?? month(now);
  const from = given(query.from, 'from') ?? month(new Date(Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)) - 3, 1)));
  if (from > to) throw AppError.badRequest(`from (${from}) is after to (${to})`);
  if (monthsBetween(from, to).length > MOST_MONTHS) throw AppError.badRequest(`at most ${MOST_MONTHS} months at a time`);
  return { from, to };
}

const period = z.object({ from: z.string().optional(), to: z.string().optional() });
const query = period.extend({ format: z.enum(['json', 'csv']).default('json') });
const row = z.object({
  month: z.string(), region: z.string(), axis: z.string(), indicator: z.string(), breakdown: z.string(),
  value: z.union([z.number(), z.string(), z.null()]), denominator: z.union([z.number(), z.string(), z.null()]),
});

export async function readIndicators(
  deps: IndicatorDeps,
  req: Request,
  actor: string,
  given: IndicatorPeriod,
  format: string,
): Promise<IndicatorRow[]> {
  const rows = await indicatorRows(deps.sources, given.from, given.to);
  await deps.audit.append({ actor, action: 'indicators.exported', ip: req.ip ?? '', details: { from: given.from, to: given.to, format } });
  return rows;
}

export function registerIndicatorApi(api: ApiRegistry, deps: IndicatorDeps): void {
  api.add(
    {
      method: 'get',
      path: '/indicators',
      summary: "The national action plan's indicators per month and region, by axis (JSON or CSV; audited)",
      access: { roles: INDICATOR_READERS },
      query,
      response: z.object({ from: z.string(), to: z.string(), rows: z.array(row) }),
    },
    async ({ query: asked, staff, req, res }) => {
      const given = periodOf(asked, deps.now());
      const rows = await readIndicators(deps, req, staff?.user._id ?? 'unknown', given, asked.format);
      if (asked.format === 'json') return { ...given, rows };
      res.type('text/csv').attachment(`indicators-${given.from}-${given.to}.csv`).send(indicatorCsv(rows));
      return undefined;
    },
  );
  api.add(
    {
      method: 'get',
      path: '/case-reports/export.csv',
      summary: "Anonymous case reports under HTCDS field names (type of exploitation, region, date), per month range (audited)",
      access: { roles: CASE_EXPORTERS },
      query: period,
    },
    async ({ query: asked, staff, req, res }) => {
      const given = periodOf(asked, deps.now());
      const start = new Date(`${given.from}-01T00:00:00Z`);
      const end = new Date(`${given.to}-01T00:00:00Z`);
      const reports = await deps.sources.hotline.reportsBetween(start, new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 1)));
      const details = { from: given.from, to: given.to, reports: reports.length };
      await deps.audit.append({ actor: staff?.user._id ?? 'unknown', action: 'case_reports.exported', ip: req.ip ?? '', details });
      res.type('text/csv').attachment(`case-reports-htcds-${given.from}-${given.to}.csv`).send(htcdsCsv(reports));
      return undefined;
    },
  );
}
