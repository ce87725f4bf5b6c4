import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackGuard } from '../../platform/callback-guard';
import type { Logger } from '../../platform/logger';
import { withTimeout } from '../../platform/with-timeout';
import type { FastRoute } from '../../safeline';
import { secretMatches } from '../../shared/secret-compare';
import type { Texts } from '../../texts/texts';
import { kannelReply, readKannelUssd, type KannelReply, type KannelUssdRequest } from './kannel-smpp';

export interface KannelUssdRouteDeps {
  readonly token: string;
  readonly texts: Texts;
  readonly logger: Logger;
  readonly guard: CallbackGuard;
  /** The smsc-ids of the operators' USSD binds. */
  readonly smscIds: readonly string[];
  readonly hopTimeoutMs: number;
  readonly handle: (request: KannelUssdRequest, source: string) => Promise<KannelReply>;
}

export const KANNEL_USSD_PATH = '/ussd/kannel';

function send(res: ServerResponse, reply: KannelReply, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}

/**
 * GET /ussd/kannel: Kannel's sms-service get-url for MO USSD (accept-x-kannel-headers, max-messages 1), the
 * reply in the response. Whatever happens past the token it answers 200 with a screen: Kannel turns a 5xx into
 * "Could not fetch content, sorry." and an empty body into a menu saying so, so a malformed, foreign or failing
 * hop gets a polite last screen (op 17, the session echoed when known), within hopTimeoutMs. Nothing about the
 * caller (number, text) is logged.
 */
export function kannelUssdRoute(deps: KannelUssdRouteDeps): FastRoute {
  const apology = { end: true, text: deps.texts.t(deps.texts.defaultLanguage, 'common.apology') };
  const smscIds = new Set(deps.smscIds);
  const hop = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const source = deps.guard.sourceOf(req);
    if (!deps.guard.allows(source)) {
      deps.guard.refused(KANNEL_USSD_PATH, 'address-not-allowed');
      return send(res, { body: 'Forbidden', headers: {} }, 403);
    }
    if (!secretMatches(query.get('token'), deps.token)) return send(res, { body: 'Unauthorized', headers: {} }, 403);
    const read = readKannelUssd((req.url ?? '').split('?')[1] ?? '');
    if (!read.ok) {
      deps.logger.warn({ reason: read.reason }, 'unusable kannel ussd hop');
      return send(res, kannelReply(apology, read.session));
    }
    const { request } = read;
    if (!smscIds.has(request.smsc)) {
      deps.logger.warn({ smsc: request.smsc }, 'kannel ussd hop from an smsc-id not in USSD_KANNEL_SMSC_IDS');
      return send(res, kannelReply(apology, request.session));
    }
    try {
      send(res, await withTimeout(deps.handle(request, source), deps.hopTimeoutMs, 'kannel ussd hop'));
    } catch (err) {
      deps.logger.error({ err }, 'kannel ussd hop failed');
      send(res, kannelReply(apology, request.session));
    }
  };
  return {
    method: 'GET',
    path: KANNEL_USSD_PATH,
    handle: (req, res, query) => {
      hop(req, res, query).catch((err: unknown) => {
        deps.logger.error({ err }, 'kannel ussd hop failed');
        if (!res.headersSent) send(res, kannelReply(apology));
      });
    },
  };
}
