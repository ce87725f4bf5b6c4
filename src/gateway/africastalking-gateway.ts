import { createRequire } from 'node:module';
import { TimeoutError, withTimeout } from '../platform/with-timeout';
import { maskPhonesIn } from '../shared/redact';
import { analyzeText } from '../shared/sms-encoding';
import { GatewayError, type OutgoingSms, type RecipientResult, type SmsGateway } from './sms-gateway';

/*
 * Why it is built this way (see shared/reference/africastalking.md):
 * - The SDK has no base-URL option; it reads `SMS_URL` from its internal `lib/common` module, synchronously,
 *   when `send` is called. So we set it right before every call, with no await in between: each instance
 *   keeps its own endpoint even when several live in one process (tests, staging), and the SDK's
 *   process-wide switch to the sandbox (any client named "sandbox") cannot redirect a production send.
 *   This relies on SDK internals: the version is pinned exactly and a test fails if the override stops working.
 * - The SDK sets no timeout; a hung call would hold a campaign batch forever. A timeout is transient although
 *   AT may have taken the batch: the caller's retry then risks a duplicate, which beats never sending.
 * - Errors never carry axios's error as `cause`: it holds the request form (numbers, text) and the API key.
 * - "All recipients" answers are lifted to GatewayError only when nothing was accepted, so an accepted
 *   recipient is never hidden behind an error (which would make the caller send it again).
 *
 * Per-recipient statusCode -> outcome (transient: retry later; permanent: retrying this text cannot help):
 *   100 Processed, 101 Sent, 102 Queued  accepted
 *   401 RiskHold                         transient (AT holds the account for review; it may clear)
 *   402 InvalidSenderId                  permanent; GatewayError('rejected') when nothing was accepted
 *   403 InvalidPhoneNumber               permanent
 *   404 UnsupportedNumberType            permanent
 *   405 InsufficientBalance              transient; GatewayError('balance') when nothing was accepted
 *   406 UserInBlacklist                  permanent
 *   407 CouldNotRoute                    transient (routes come back)
 *   409 DoNotDisturbRejection            permanent (the person refuses promotional SMS)
 *   500 InternalServerError, 501 Gateway transient
 *   502 RejectedByGateway                permanent (the operator refused it)
 *   any other code                       transient (the caller's retries are bounded)
 *   number missing from AT's answer      transient, statusCode 0
 * Whole call: HTTP 401 -> auth; 408, 429, 5xx, network error, timeout, unreadable answer -> transient;
 * other HTTP 4xx, or the SDK's own validation (joi) -> rejected; AT's `{Message: "InvalidSenderId",
 * Recipients: []}` (its answer to an unknown sender) -> rejected; an empty list saying InsufficientBalance -> balance.
 */

const OUTCOMES: Readonly<Record<number, RecipientResult['outcome']>> = {
  100: 'accepted', 101: 'accepted', 102: 'accepted',
  402: 'permanent', 403: 'permanent', 404: 'permanent', 406: 'permanent', 409: 'permanent', 502: 'permanent',
};
const PRODUCTION_SMS_URL = 'https://api.africastalking.com/version1/messaging';
const SANDBOX_SMS_URL = 'https://api.sandbox.africastalking.com/version1/messaging';

interface AtRecipient { statusCode?: number | string; number?: string; status?: string; cost?: string; messageId?: string }
interface AtSms { send(params: { to: string[]; message: string; from?: string; enqueue: boolean }): Promise<unknown> }

const sdkRequire = createRequire(__filename);
const createClient = sdkRequire('africastalking') as (options: { username: string; apiKey: string }) => { SMS: AtSms };
const sdkEndpoints = sdkRequire('africastalking/lib/common') as { SMS_URL: string };

export interface AfricasTalkingOptions {
  readonly username: string;
  readonly apiKey: string;
  /** Where AT's API lives (staging, a local fake); AT's own endpoint when absent. */
  readonly baseUrl?: string;
  readonly timeoutMs: number;
  /** Sender ID or short code when a batch names none; AT's default sender when absent. */
  readonly defaultFrom?: string;
}

export function createAfricasTalkingGateway(options: AfricasTalkingOptions): SmsGateway {
  const client = createClient({ username: options.username, apiKey: options.apiKey });
  const smsUrl = options.baseUrl
    ? `${options.baseUrl.replace(/\/+$/, '')}/version1/messaging`
    : options.username.toLowerCase() === 'sandbox' ? SANDBOX_SMS_URL : PRODUCTION_SMS_URL;
  return {
    name: 'africastalking',
    async send(batch) {
      if (batch.to.length === 0) return [];
      const from = batch.from ?? options.defaultFrom;
      let answer: unknown;
      try {
        sdkEndpoints.SMS_URL = smsUrl;
        const call = client.SMS.send({ to: [...batch.to], message: batch.text, ...(from ? { from } : {}), enqueue: true });
        answer = await withTimeout(call, options.timeoutMs, "Africa's Talking SMS send");
      } catch (err) {
        throw classify(err);
      }
      return mapAnswer(batch, answer);
    },
  };
}

function classify(err: unknown): GatewayError {
  if (err instanceof TimeoutError) return new GatewayError('transient', err.message);
  const axiosLike = err as { isAxiosError?: boolean; code?: string; response?: { status?: number } } | null;
  if (axiosLike?.isAxiosError) {
    const status = axiosLike.response?.status;
    if (status === undefined) return new GatewayError('transient', `Africa's Talking unreachable (${axiosLike.code ?? 'network error'})`);
    if (status === 401) return new GatewayError('auth', "Africa's Talking refused the username or API key (HTTP 401)");
    if (status >= 500 || status === 408 || status === 429) return new GatewayError('transient', `Africa's Talking answered HTTP ${status}`);
    return new GatewayError('rejected', `Africa's Talking refused the request (HTTP ${status})`);
  }
  if (err instanceof Error) {
    return new GatewayError('rejected', `the Africa's Talking SDK refused the request: ${maskPhonesIn(err.message)}`);
  }
  return new GatewayError('transient', "Africa's Talking gave an unexpected answer");
}

const digitsOf = (number: string | undefined): string => (number ?? '').replace(/\D/g, '');

function mapAnswer(batch: OutgoingSms, answer: unknown): RecipientResult[] {
  const data = (answer as { SMSMessageData?: { Message?: unknown; Recipients?: unknown } } | null)?.SMSMessageData;
  if (!data || !Array.isArray(data.Recipients)) {
    throw new GatewayError('transient', "Africa's Talking answered without SMSMessageData.Recipients");
  }
  const recipients = data.Recipients as AtRecipient[];
  const message = typeof data.Message === 'string' ? data.Message : '';
  if (recipients.length === 0 && /InvalidSenderId/i.test(message)) {
    throw new GatewayError('rejected', "Africa's Talking refused the sender ID (InvalidSenderId)");
  }
  if (recipients.length === 0 && /InsufficientBalance/i.test(message)) {
    throw new GatewayError('balance', "Africa's Talking account is out of credit (InsufficientBalance)");
  }

  // A queue per number: the same number twice in one batch gets two answers.
  const byNumber = new Map<string, AtRecipient[]>();
  for (const recipient of recipients) {
    const key = digitsOf(recipient.number);
    const answers = byNumber.get(key);
    if (answers) answers.push(recipient);
    else byNumber.set(key, [recipient]);
  }
  const { parts } = analyzeText(batch.text);
  const results = batch.to.map((to): RecipientResult => {
    const recipient = byNumber.get(digitsOf(to))?.shift();
    if (!recipient) return { to, outcome: 'transient', statusCode: 0, status: 'MissingFromAnswer' };
    const statusCode = Number(recipient.statusCode);
    const { messageId, cost } = recipient;
    return {
      to,
      outcome: OUTCOMES[statusCode] ?? 'transient',
      statusCode,
      status: String(recipient.status ?? ''),
      ...(messageId && messageId !== 'None' ? { messageId } : {}),
      ...(cost ? { cost } : {}),
      parts,
    };
  });
  if (!results.some((result) => result.outcome === 'accepted')) {
    if (results.some((result) => result.statusCode === 402)) {
      throw new GatewayError('rejected', "Africa's Talking refused the sender ID (402 InvalidSenderId)");
    }
    if (results.some((result) => result.statusCode === 405)) {
      throw new GatewayError('balance', "Africa's Talking account is out of credit (405 InsufficientBalance)");
    }
  }
  return results;
}
