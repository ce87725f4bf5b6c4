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
  const handle = <T>(path: string, schema: z.ZodType<T>, phoneOf: (input: T) => string, work: (input: T) => Promise<unknown>) =>
    router.post(path, allow({ public: true }), allowed(path), form, express.json({ limit: '20kb' }), async (req, res) => {
      if (!guard(req, res)) return;
      const parsed = schema.safeParse(req.body ?? {});
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
        const result = await work(parsed.data);
        res.status(200).json(result ?? { ok: true });
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number' && status < 500) return void res.status(status).json({ error: { code: 'bad_request', message: (err as Error).message } });
        unavailable(res, path, err);
      }
    });

  handle('/sms/inbound', inbound, (sms) => sms.from, async (sms) => handleInboundSms(deps.inbound, sms));
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

/**
 * POST /sms/delivery, served before Express like /ussd: a campaign brings one report per message,
 * so this route must take thousands a second. It only checks the report and keeps it in Redis;
 * the worker applies reports in batches.
 */
export function deliveryReportRoute(deps: {
  token: string;
  guard: CallbackGuard;
  accept(report: ReceivedReport, counters: readonly RateCounter[]): Promise<AcceptResult>;
  /** The keyed hash of the number a report names (undefined: not a number), kept instead of the number. */
  phoneHash?(phoneNumber: string): string | undefined;
  /** Counts refused reports for /metrics. */
  dropped(reason: 'rate-limited' | 'unknown-bound'): void;
  now(): Date;
  logger: Logger;
}): FastRoute {
  const handle = async (req: Parameters<FastRoute['handle']>[0], res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const source = deps.guard.sourceOf(req);
    if (!deps.guard.allows(source)) {
      req.resume();
      deps.guard.refused('/sms/delivery', 'address-not-allowed');
      return sendJson(res, 403, { error: { code: 'forbidden', message: 'Forbidden' } });
    }
    if (!secretMatches(query.get('token'), deps.token)) {
      req.resume();
      return sendJson(res, 403, { error: { code: 'forbidden', message: 'Forbidden' } });
    }
    const form = await readForm(req, 4_096);
    if (!form.ok) return sendJson(res, 400, { error: { code: 'bad_request', message: `expected AT's form fields (${form.reason})` } });
    const parsed = delivery.safeParse(form.fields);
    if (!parsed.success) return sendJson(res, 400, { error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    try {
      const { id, status, failureReason, phoneNumber } = parsed.data;
      // The phone's hash lets a report find a send recorded unknown; the number itself is not kept.
      const phone = phoneNumber ? deps.phoneHash?.(phoneNumber) : undefined;
      const report = { id, status, failureReason, at: deps.now().toISOString(), ...(phone ? { phone } : {}) };
      // Reports are not counted per phone: a campaign brings several for each of its numbers.
      const result = await deps.accept(report, deps.guard.counters('/sms/delivery', source));
      if (result.kept) return sendJson(res, 200, { ok: true });
      if (result.reason === 'rate-limited') deps.guard.refused('/sms/delivery', 'rate-limited');
      deps.dropped(result.reason);
      res.setHeader('retry-after', String(result.retryAfterSeconds));
      sendJson(res, 429, { error: { code: 'rate_limited', message: `Too many reports; try again in ${result.retryAfterSeconds} s` } });
    } catch (err) {
      deps.logger.error({ err }, 'delivery report not kept; the gateway will retry');
      sendJson(res, 503, { error: { code: 'unavailable', message: 'Try again later' } });
    }
  };
  return {
    method: 'POST',
    path: '/sms/delivery',
    handle: (req, res, query) => {
      handle(req, res, query).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
      });
    },
  };
}
