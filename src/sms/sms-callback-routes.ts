import type { ServerResponse } from 'node:http';
import express, { Router, type Request, type Response } from 'express';
import { readForm } from '../platform/read-form';
import type { FastRoute } from '../safeline';
import { z } from 'zod';
import type { AcceptResult, ReceivedReport } from '../campaigns/delivery-reports';
import type { CallbackGuard, RateCounter } from '../platform/callback-guard';
import type { Logger } from '../platform/logger';
import { secretMatches } from '../shared/secret-compare';
import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import { allow } from '../staff/access';
import { readKannelInbound } from '../gateway/kannel-inbound';
import { readKannelReport } from '../gateway/kannel-reports';
import { handleInboundSms, type InboundDeps } from './handle-inbound-sms';

const field = (max: number) => z.string().max(max);
const inbound = z.object({ from: field(30).min(3), to: field(30).default(''), text: field(2_000).default(''), id: field(100).min(1), date: field(40).optional(), linkId: field(100).optional() });
const optout = z.object({ phoneNumber: field(30).min(3), senderId: field(20).default('') });

export interface SmsCallbackDeps {
  token: string;
  guard: CallbackGuard;
  /** False while Redis is away: the callback answers 503 at once rather than wait for it. */
  redisUp(): boolean;
  /** Incoming SMS and opt-outs per phone per minute (0: off). */
  maxPerPhonePerMinute: number;
  inbound: InboundDeps;
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  protection: PhoneProtection;
  now(): Date;
  logger: Logger;
  /** Serve Kannel's MO get-url, GET /sms/kannel/inbound (SMS_GATEWAY=kannel). */
  kannelInbound?: boolean;
}

/**
 * Africa's Talking's SMS callbacks: incoming messages, delivery reports, opt-outs. AT does not
 * sign them: each URL carries a secret token. Garbage gets 400 and changes nothing; a store that
 * is down gets 503, so AT tries again later (Redis down: at once, never after a wait).
 */
export function smsCallbackRoutes(deps: SmsCallbackDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 30 });
  const source = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? '';
  const guard = (req: Request, res: Response): boolean => {
    if (secretMatches(req.query.token, deps.token)) return true;
    res.status(403).type('text').send('Forbidden');
    return false;
  };
  // A sender not on the allow-list is refused before its body is read.
  const allowed = (path: string) => (req: Request, res: Response, next: () => void): void => {
    if (deps.guard.allows(source(req))) return next();
    deps.guard.refused(path, 'address-not-allowed');
    res.status(403).type('text').send('Forbidden');
  };
  const phoneHash = (phone: string): string => deps.protection.hash(toE164(phone) ?? phone);
  const unavailable = (res: Response, path: string, err: unknown): void => {
    deps.logger.error({ err, path }, 'sms callback failed; the gateway will retry');
    res.status(503).json({ error: { code: 'unavailable', message: 'Try again later' } });
  };
  // AT posts forms; Kannel's get-url calls GET with the fields in the query and needs no answer in the body.
  type Way = { method: 'post' | 'get'; read(req: Request): unknown; answer(res: Response, result: unknown): void };
  const posted: Way = { method: 'post', read: (req): unknown => req.body ?? {}, answer: (res, result) => void res.status(200).json(result ?? { ok: true }) };
  const handle = <T>(path: string, schema: z.ZodType<T>, phoneOf: (input: T) => string, work: (input: T) => Promise<unknown>, way: Way = posted) =>
    router[way.method](path, allow({ public: true }), allowed(path), form, express.json({ limit: '20kb' }), async (req, res) => {
      if (!guard(req, res)) return;
      const parsed = schema.safeParse(way.read(req));
      if (!parsed.success) return void res.status(400).json({ error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      if (!deps.redisUp()) return void unavailable(res, path, 'redis is down');
      // Over a limit: 429 and Retry-After, which AT honours by sending again later; nothing is done now.
      const phone = { hash: phoneHash(phoneOf(parsed.data)), max: deps.maxPerPhonePerMinute };
      const wait = await deps.guard.hit(deps.guard.counters(path, source(req), phone));
      if (wait > 0) {
        deps.guard.refused(path, 'rate-limited');
        res.setHeader('retry-after', String(wait));
        return void res.status(429).json({ error: { code: 'rate_limited', message: `Too many requests; try again in ${wait} s` } });
      }
      try {
        way.answer(res, await work(parsed.data));
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number' && status < 500) return void res.status(status).json({ error: { code: 'bad_request', message: (err as Error).message } });
        unavailable(res, path, err);
      }
    });

  handle('/sms/inbound', inbound, (sms) => sms.from, async (sms) => handleInboundSms(deps.inbound, sms));
  if (deps.kannelInbound) {
    const rawQuery = (req: Request): string => req.originalUrl.split('?')[1] ?? '';
    handle('/sms/kannel/inbound', inbound, (sms) => sms.from, async (sms) => handleInboundSms(deps.inbound, sms), {
      method: 'get',
      // Kannel may name another charset than UTF-8 for the text: decoded from the raw query's bytes.
      read: (req) => {
        const read = readKannelInbound(rawQuery(req));
        return read.ok ? { from: read.sms.from, to: read.sms.to, text: read.sms.text, id: read.sms.id } : {};
      },
      // An empty body: Kannel sends no reply of its own (the service has max-messages = 0); replies are queued SMS.
      answer: (res) => void res.status(200).type('text').send(''),
    });
  }
  handle('/sms/optout', optout, (input) => input.phoneNumber, async (input) => {
    const phone = toE164(input.phoneNumber);
    if (!phone) return { ok: true, ignored: 'not a phone number' };
    const phoneHash = deps.protection.hash(phone);
    if (await deps.subscribers.optOut(phoneHash, 'sms', `Africa's Talking opt-out (${input.senderId.slice(0, 20)})`, deps.now())) await deps.optouts.add(phoneHash);
    return { ok: true };
  });
  return router;
}

const delivery = z.object({ id: field(100).min(1), status: z.string().regex(/^[A-Za-z]{1,40}$/), failureReason: field(100).default(''), phoneNumber: field(30).optional(), networkCode: field(20).optional(), retryCount: field(10).optional() });

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

function fastRoute(method: FastRoute['method'], path: string, handle: (req: FastRequest, res: ServerResponse, query: URLSearchParams) => Promise<void>): FastRoute {
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
    if (!parsed.success) return sendJson(res, 400, { error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    const { id, status, failureReason, phoneNumber } = parsed.data;
    // The phone's hash lets a report find a send recorded unknown; the number itself is not kept.
    const phone = phoneNumber ? deps.phoneHash?.(phoneNumber) : undefined;
    await keep(deps, path, deps.guard.sourceOf(req), res, { id, status, failureReason, at: deps.now().toISOString(), ...(phone ? { phone } : {}) });
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
    await keep(deps, path, deps.guard.sourceOf(req), res, { id: report.id, status: report.status, failureReason: report.failureReason, at: deps.now().toISOString() });
  });
}
