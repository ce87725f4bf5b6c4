import { randomBytes } from 'node:crypto';
import { analyzeText } from '../shared/sms-encoding';
import { GatewayError, type OutgoingSms, type RecipientResult, type SmsGateway } from './sms-gateway';

/*
 * SMS through Kannel's smsbox (`GET /cgi-bin/sendsms`), which hands them to the operators' SMPP binds.
 * Why it is built this way (see shared/reference/kannel-smpp.md):
 * - One request per recipient: sendsms takes several numbers in `to` but then gives one answer for all, and
 *   each message needs its own id for its receipts. The id is ours, made before the call and put in the
 *   dlr-url: Kannel's answer carries no id, its receipts come back to whatever URL the send named.
 * - `charset=UTF-8` always (the text is UTF-8), `coding=2` when the text needs UCS-2 (Bambara's ɛ ɔ ɲ);
 *   Kannel splits long texts into concatenated parts itself (the sendsms-user has `concatenation = true`).
 * - Kannel sends no cost: the cost is parts x SMS_PRICE_PER_PART, as the preview estimates it.
 * - Errors never carry the request URL: it holds the sendsms password, the number and the text.
 *
 * Kannel's answers -> outcome:
 *   202 "0: Accepted for delivery" (or "3: Queued for later delivery")   accepted
 *   403 "Authorization failed for sendsms"    GatewayError('auth') when nobody was accepted (the campaign pauses)
 *   403 "Not routable. Do not try again."     permanent (no SMSC takes this smsc id)
 *   400 (sender missing, number denied...)    permanent
 *   other 4xx                                 permanent
 *   5xx, connection refused, timeout          transient; GatewayError('transient') when nobody was accepted
 */

export interface KannelGatewayOptions {
  readonly sendsmsUrl: string;
  readonly username: string;
  readonly password: string;
  /** The smsc-id every message leaves over. */
  readonly smsc: string;
  readonly timeoutMs: number;
  readonly defaultFrom?: string;
  /** XOF per SMS part: the cost of an accepted message. */
  readonly pricePerPart: number;
  /** The delivery-report URL with its token (query included), or undefined while it is not known yet. */
  reportUrl(): string | undefined;
  /** Requests in flight at once for one batch; default 10. */
  readonly concurrency?: number;
}

/** Our message id: the receipt names it, so it must be unique and fit the report route's bounds. */
export const newKannelMessageId = (): string => `kannel-${randomBytes(12).toString('base64url')}`;

type Answer = RecipientResult & { readonly auth?: true };

export function createKannelGateway(options: KannelGatewayOptions): SmsGateway {
  const concurrency = Math.max(1, options.concurrency ?? 10);

  async function sendOne(to: string, text: string, from: string | undefined): Promise<Answer> {
    const { encoding, parts } = analyzeText(text);
    const messageId = newKannelMessageId();
    const reportUrl = options.reportUrl();
    const params = new URLSearchParams({
      username: options.username, password: options.password, to, text, smsc: options.smsc, charset: 'UTF-8',
    });
    if (encoding === 'UCS-2') params.set('coding', '2');
    if (from) params.set('from', from);
    if (reportUrl) {
      params.set('dlr-mask', '31');
      // %d: Kannel's report type, %A: the SMSC's answer or receipt text (the stat/err it carries).
      params.set('dlr-url', `${reportUrl}${reportUrl.includes('?') ? '&' : '?'}id=${messageId}&type=%d&status=%A`);
    }
    let status: number;
    let body: string;
    try {
      const res = await fetch(`${options.sendsmsUrl}?${params.toString()}`, { signal: AbortSignal.timeout(options.timeoutMs) });
      status = res.status;
      body = (await res.text()).trim().slice(0, 200);
    } catch (err) {
      const name = (err as { name?: string }).name;
      const code = (err as { cause?: { code?: string } }).cause?.code;
      const reason = name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (code ?? 'network error');
      return { to, outcome: 'transient', statusCode: 0, status: `Kannel unreachable (${reason})` };
    }
    if (status === 202 || status === 200) {
      return { to, outcome: 'accepted', messageId, statusCode: status, status: body, parts, cost: `XOF ${parts * options.pricePerPart}` };
    }
    if (status === 403 && /authorization failed/i.test(body)) {
      return { to, outcome: 'permanent', statusCode: status, status: body, auth: true };
    }
    if (status >= 500 || status === 408 || status === 429) return { to, outcome: 'transient', statusCode: status, status: body };
    return { to, outcome: 'permanent', statusCode: status, status: body };
  }

  return {
    name: 'kannel',
    async send(batch: OutgoingSms) {
      const from = batch.from ?? options.defaultFrom;
      const answers: Answer[] = new Array<Answer>(batch.to.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.to.length) {
          const at = next++;
          answers[at] = await sendOne(batch.to[at] ?? '', batch.text, from);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.to.length) }, worker));
      // An accepted recipient is never hidden behind an error: the caller would send it again.
      if (answers.length > 0 && !answers.some((answer) => answer.outcome === 'accepted')) {
        if (answers.some((answer) => answer.auth)) throw new GatewayError('auth', 'Kannel refused the sendsms username or password (403)');
        const first = answers[0];
        if (answers.every((answer) => answer.outcome === 'transient') && first) throw new GatewayError('transient', first.status);
      }
      // Credentials refused for some while others went through: those are tried again, not failed.
      return answers.map(({ auth, ...answer }) => (auth ? { ...answer, outcome: 'transient' } : answer));
    },
  };
}
