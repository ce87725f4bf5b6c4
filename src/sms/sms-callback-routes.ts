import type { ServerResponse } from 'node:http';
import express, { Router, type Request, type Response } from 'express';
import { readForm } from '../platform/read-form';
import type { FastRoute } from '../safeline';
import { z } from 'zod';
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
 * is down gets 503, so AT tries again later.
 */
export function smsCallbackRoutes(deps: SmsCallbackDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 30 });
  const guard = (req: Request, res: Response): boolean => {
    if (secretMatches(req.query.token, deps.token)) return true;
    res.status(403).type('text').send('Forbidden');
    return false;
  };
  const handle = <T>(path: string, schema: z.ZodType<T>, work: (input: T) => Promise<unknown>) =>
    router.post(path, allow({ public: true }), form, express.json({ limit: '20kb' }), async (req, res) => {
      if (!guard(req, res)) return;
      const parsed = schema.safeParse(req.body ?? {});
      if (!parsed.success) return void res.status(400).json({ error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      try {
        const result = await work(parsed.data);
        res.status(200).json(result ?? { ok: true });
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number' && status < 500) return void res.status(status).json({ error: { code: 'bad_request', message: (err as Error).message } });
        deps.logger.error({ err, path }, 'sms callback failed; the gateway will retry');
        res.status(503).json({ error: { code: 'unavailable', message: 'Try again later' } });
      }
    });

  handle('/sms/inbound', inbound, async (sms) => handleInboundSms(deps.inbound, sms));
  handle('/sms/optout', optout, async (input) => {
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
export function deliveryReportRoute(deps: { token: string; accept(report: { id: string; status: string; failureReason: string; at: string }): Promise<void>; now(): Date; logger: Logger }): FastRoute {
  const handle = async (req: Parameters<FastRoute['handle']>[0], res: ServerResponse, query: URLSearchParams): Promise<void> => {
    if (!secretMatches(query.get('token'), deps.token)) {
      req.resume();
      return sendJson(res, 403, { error: { code: 'forbidden', message: 'Forbidden' } });
    }
    const form = await readForm(req, 4_096);
    if (!form.ok) return sendJson(res, 400, { error: { code: 'bad_request', message: `expected AT's form fields (${form.reason})` } });
    const parsed = delivery.safeParse(form.fields);
    if (!parsed.success) return sendJson(res, 400, { error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    try {
      await deps.accept({ id: parsed.data.id, status: parsed.data.status, failureReason: parsed.data.failureReason, at: deps.now().toISOString() });
      sendJson(res, 200, { ok: true });
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
