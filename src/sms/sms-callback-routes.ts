import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { CallbackGuard } from '../platform/callback-guard';
import type { Logger } from '../platform/logger';
import { secretMatches } from '../shared/secret-compare';
import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import { allow } from '../staff/access';
import { readKannelInbound } from '../gateway/kannel-inbound';
import { handleInboundSms, type InboundDeps } from './handle-inbound-sms';

const field = (max: number) => z.string().max(max);
const inbound = z.object({
  from: field(30).min(3),
  to: field(30).default(''),
  text: field(2_000).default(''),
  id: field(100).min(1),
  date: field(40).optional(),
  linkId: field(100).optional(),
});
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
  const posted: Way = {
    method: 'post',
    read: (req): unknown => req.body ?? {},
    answer: (res, result) => void res.status(200).json(result ?? { ok: true }),
  };
  const handle = <T>(
    path: string,
    schema: z.ZodType<T>,
    phoneOf: (input: T) => string,
    work: (input: T) => Promise<unknown>,
    way: Way = posted,
  ) =>
    router[way.method](path, allow({ public: true }), allowed(path), form, express.json({ limit: '20kb' }), async (req, res) => {
      if (!guard(req, res)) return;
      const parsed = schema.safeParse(way.read(req));
      if (!parsed.success) {
        return void res
          .status(400)
          .json({
            error: { code: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') },
          });
      }
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
        if (typeof status === 'number' && status < 500) {
          return void res.status(status).json({ error: { code: 'bad_request', message: (err as Error).message } });
        }
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
  handle(
    '/sms/optout',
    optout,
    (input) => input.phoneNumber,
    async (input) => {
      const phone = toE164(input.phoneNumber);
      if (!phone) return { ok: true, ignored: 'not a phone number' };
      const phoneHash = deps.protection.hash(phone);
      if (await deps.subscribers.optOut(phoneHash, 'sms', `Africa's Talking opt-out (${input.senderId.slice(0, 20)})`, deps.now())) {
        await deps.optouts.add(phoneHash);
      }
      return { ok: true };
    },
  );
  return router;
}
