import type { ServerResponse } from 'node:http';
import express, { Router, type Request, type Response } from 'express';
import type { FastRoute } from '../safeline';
import type { CallbackGuard, RateCounter } from '../platform/callback-guard';
import { secretMatches } from '../shared/secret-compare';
import type { Logger } from '../platform/logger';
import { withTimeout } from '../platform/with-timeout';
import type { Texts } from '../texts/texts';
import { readForm } from '../platform/read-form';
import { ussdRequestSchema, ussdSessionEventSchema, type UssdSessionEvent } from './ussd-request';

export interface UssdRouteDeps {
  readonly token: string;
  readonly texts: Texts;
  readonly logger: Logger;
  readonly guard: CallbackGuard;
  /** One hop; `source` is the sender's address, for its rate limit. */
  readonly handle: (request: ReturnType<typeof ussdRequestSchema.parse>, source: string) => Promise<string>;
  readonly recordSessionEvent: (event: UssdSessionEvent) => Promise<void>;
  /** What an end-of-session notice counts against. */
  readonly eventCounters: (phoneNumber: string, source: string) => RateCounter[];
  /** A hop that takes longer gets the apology: AT waits about 15 s, the caller less. */
  readonly hopTimeoutMs: number;
}

/** AT does not sign callbacks: each URL carries a secret token, compared in constant time. */
const tokenMatches = secretMatches;

const FORM_LIMIT_BYTES = 10 * 1024;

function sendText(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * POST /ussd, AT's hottest callback, served before Express. It answers 200 text/plain CON/END
 * whatever happens: any other status or body makes AT drop the session, so even a malformed,
 * oversized or failing request gets a polite END.
 */
export function ussdHopRoute(deps: UssdRouteDeps): FastRoute {
  const apology = `END ${deps.texts.t(deps.texts.defaultLanguage, 'common.apology')}`;
  const hop = async (req: Parameters<FastRoute['handle']>[0], res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const source = deps.guard.sourceOf(req);
    if (!deps.guard.allows(source)) {
      req.resume();
      deps.guard.refused('/ussd', 'address-not-allowed');
      return sendText(res, 'END Forbidden', 403);
    }
    if (!tokenMatches(query.get('token'), deps.token)) {
      req.resume();
      return sendText(res, 'END Unauthorized', 403);
    }
    const form = await readForm(req, FORM_LIMIT_BYTES);
    if (!form.ok) {
      deps.logger.warn({ reason: form.reason }, 'unreadable ussd request');
      return sendText(res, apology);
    }
    const parsed = ussdRequestSchema.safeParse(form.fields);
    if (!parsed.success) {
      deps.logger.warn({ issues: parsed.error.issues.map((issue) => issue.path.join('.')) }, 'malformed ussd request');
      return sendText(res, apology);
    }
    try {
      sendText(res, await withTimeout(deps.handle(parsed.data, source), deps.hopTimeoutMs, 'ussd hop'));
    } catch (err) {
      deps.logger.error({ err }, 'ussd hop failed');
      sendText(res, apology);
    }
  };
  return {
    method: 'POST',
    path: '/ussd',
    handle: (req, res, query) => {
      hop(req, res, query).catch((err: unknown) => {
        deps.logger.error({ err }, 'ussd hop failed');
        if (!res.headersSent) sendText(res, apology);
      });
    },
  };
}

/** POST /ussd/events: AT's end-of-session notifications (not a hot path: Express is fine). */
export function ussdRoutes(deps: UssdRouteDeps): Router {
  const router = Router();
  const reply = (res: Response, body: string, status = 200): void => {
    res.status(status).type('text/plain; charset=utf-8').send(body);
  };
  const form = express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 50 });

  const source = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? '';
  router.post('/ussd/events', (req, res, next) => {
    if (deps.guard.allows(source(req))) return next();
    deps.guard.refused('/ussd/events', 'address-not-allowed');
    reply(res, 'Forbidden', 403);
  }, form, async (req: Request, res: Response) => {
    if (!tokenMatches(req.query.token, deps.token)) return reply(res, 'Unauthorized', 403);
    const parsed = ussdSessionEventSchema.safeParse(req.body);
    if (!parsed.success) {
      return reply(res, `Bad request: ${parsed.error.issues.map((issue) => issue.path.join('.') || issue.message).join(', ')}`, 400);
    }
    // Each notice is a MongoDB write: bounded per phone and sender like the hops themselves.
    const wait = await deps.guard.hit(deps.eventCounters(parsed.data.phoneNumber, source(req)));
    if (wait > 0) {
      deps.guard.refused('/ussd/events', 'rate-limited');
      res.setHeader('retry-after', String(wait));
      return reply(res, 'Too many requests', 429);
    }
    await deps.recordSessionEvent(parsed.data);
    reply(res, 'OK');
  });

  return router;
}
