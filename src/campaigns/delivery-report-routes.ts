import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { readKannelReport } from '../gateway/kannel-reports';
import type { CallbackGuard, RateCounter } from '../platform/callback-guard';
import type { Logger } from '../platform/logger';
import { readForm } from '../platform/read-form';
import type { FastRoute } from '../safeline';
import { secretMatches } from '../shared/secret-compare';
import type { AcceptResult, ReceivedReport } from './delivery-reports';

const field = (max: number) => z.string().max(max);
const delivery = z.object({
  id: field(100).min(1),
  status: z.string().regex(/^[A-Za-z]{1,40}$/),
  failureReason: field(100).default(''),
  phoneNumber: field(30).optional(),
  networkCode: field(20).optional(),
  retryCount: field(10).optional(),
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type DeliveryRouteDeps = {
  token: string;
  guard: CallbackGuard;
  accept(report: ReceivedReport, counters: readonly RateCounter[]): Promise<AcceptResult>;
  /** The keyed hash of the number a report names (undefined: not a number), kept instead of the number. */
  phoneHash?(phoneNumber: string): string | undefined;
  /** Counts refused reports for /metrics. */
  dropped(reason: 'rate-limited' | 'unknown-bound'): void;
  now(): Date;
  logger: Logger;
};
type FastRequest = Parameters<FastRoute['handle']>[0];

/** The sender's address and token, checked before anything is read: false when refused (answered 403). */
function admitted(deps: DeliveryRouteDeps, path: string, req: FastRequest, res: ServerResponse, query: URLSearchParams): boolean {
  const ok = deps.guard.allows(deps.guard.sourceOf(req));
  if (!ok) deps.guard.refused(path, 'address-not-allowed');
  if (ok && secretMatches(query.get('token'), deps.token)) return true;
  req.resume();
  sendJson(res, 403, { error: { code: 'forbidden', message: 'Forbidden' } });
  return false;
}

/** Keeps a checked report in the inbox (one Redis round trip), or answers 429 / 503 so the gateway sends it again. */
async function keep(deps: DeliveryRouteDeps, path: string, source: string, res: ServerResponse, report: ReceivedReport): Promise<void> {
  try {
    // Reports are not counted per phone: a campaign brings several for each of its numbers.
    const result = await deps.accept(report, deps.guard.counters(path, source));
    if (result.kept) return sendJson(res, 200, { ok: true });
    if (result.reason === 'rate-limited') deps.guard.refused(path, 'rate-limited');
    deps.dropped(result.reason);
    res.setHeader('retry-after', String(result.retryAfterSeconds));
    sendJson(res, 429, { error: { code: 'rate_limited', message: `Too many reports; try again in ${result.retryAfterSeconds} s` } });
  } catch (err) {
    deps.logger.error({ err }, 'delivery report not kept; the gateway will retry');
    sendJson(res, 503, { error: { code: 'unavailable', message: 'Try again later' } });
  }
}

function fastRoute(
  method: FastRoute['method'],
  path: string,
  handle: (req: FastRequest, res: ServerResponse, query: URLSearchParams) => Promise<void>,
): FastRoute {
  return {
    method,
    path,
    handle: (req, res, query) => {
      handle(req, res, query).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
      });
    },
  };
}

/**
 * POST /sms/delivery, served before Express like /ussd: a campaign brings one report per message,
 * so this route must take thousands a second. It only checks the report and keeps it in Redis;
 * the worker applies reports in batches.
 */
export function deliveryReportRoute(deps: DeliveryRouteDeps): FastRoute {
  const path = '/sms/delivery';
  return fastRoute('POST', path, async (req, res, query) => {
    if (!admitted(deps, path, req, res, query)) return;
    const form = await readForm(req, 4_096);
    if (!form.ok) return sendJson(res, 400, { error: { code: 'bad_request', message: `expected AT's form fields (${form.reason})` } });
    const parsed = delivery.safeParse(form.fields);
    if (!parsed.success) {
      return sendJson(res, 400, {
        error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') },
      });
    }
    const { id, status, failureReason, phoneNumber } = parsed.data;
    // The phone's hash lets a report find a send recorded unknown; the number itself is not kept.
    const phone = phoneNumber ? deps.phoneHash?.(phoneNumber) : undefined;
    await keep(deps, path, deps.guard.sourceOf(req), res, {
      id, status, failureReason, at: deps.now().toISOString(), ...(phone ? { phone } : {}),
    });
  });
}

/** GET /sms/kannel/delivery: Kannel's dlr-url (see gateway/kannel-reports.ts), into the same inbox as AT's reports. */
export function kannelDeliveryReportRoute(deps: DeliveryRouteDeps): FastRoute {
  const path = '/sms/kannel/delivery';
  return fastRoute('GET', path, async (req, res, query) => {
    if (!admitted(deps, path, req, res, query)) return;
    req.resume();
    const report = readKannelReport(query);
    if (!report.ok) return sendJson(res, 400, { error: { code: 'bad_request', message: report.reason } });
    if ('ignore' in report) return sendJson(res, 200, { ok: true, ignored: report.ignore });
    await keep(deps, path, deps.guard.sourceOf(req), res, {
      id: report.id, status: report.status, failureReason: report.failureReason, at: deps.now().toISOString(),
    });
  });
}
