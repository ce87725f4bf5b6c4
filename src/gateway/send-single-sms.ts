import type { Logger } from '../platform/logger';
import { UnrecoverableJobError } from '../platform/queues';
import type { PhoneProtection } from '../shared/phone-protection';
import { maskPhone } from '../shared/redact';
import { GatewayError, type RecipientResult, type SmsGateway } from './sms-gateway';
import type { SingleSmsJob } from './sms-queue';

/**
 * Sends one queued SMS. A transient failure throws (Bull retries with backoff); a refusal that
 * retrying cannot fix throws UnrecoverableJobError.
 */
export async function sendSingleSms(
  deps: { gateway: SmsGateway; protection: PhoneProtection; logger: Logger },
  job: SingleSmsJob,
): Promise<RecipientResult> {
  const to = deps.protection.decrypt(job.toSealed);
  const log = { purpose: job.purpose, reference: job.reference, to: maskPhone(to) };
  let result: RecipientResult | undefined;
  try {
    [result] = await deps.gateway.send({ to: [to], text: job.text, purpose: job.purpose });
  } catch (err) {
    if (err instanceof GatewayError && err.kind !== 'transient') {
      throw new UnrecoverableJobError(`gateway refused the send: ${err.kind}`, { cause: err });
    }
    throw err;
  }
  if (!result) throw new Error('the gateway answered without a result for the recipient');
  if (result.outcome === 'transient') throw new Error(`gateway status ${result.statusCode} ${result.status}, will retry`);
  if (result.outcome === 'permanent') {
    deps.logger.warn({ ...log, statusCode: result.statusCode }, 'sms refused for this number');
    throw new UnrecoverableJobError(`gateway status ${result.statusCode} ${result.status}`);
  }
  deps.logger.info({ ...log, messageId: result.messageId }, 'sms handed to the gateway');
  return result;
}
