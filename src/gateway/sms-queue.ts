import type { JobOptions } from 'bull';
import type { JsonObject, QueueFactory } from '../platform/queues';

export const SMS_QUEUE = 'sms-outbound';

/** One SMS to one person. The number travels sealed: Redis never holds it in clear. */
export interface SingleSmsJob extends JsonObject {
  toSealed: string;
  text: string;
  /** Why it is sent, for metrics and the log (e.g. "hotline.alert"). */
  purpose: string;
  /** The hotline reference or campaign it belongs to, never a number. */
  reference: string;
}

// Retries for about an hour; a done job leaves Redis at once (its text may concern a resident).
const OPTIONS: JobOptions = { attempts: 12, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: true, removeOnFail: 1_000 };

/** Queues one SMS; `jobId` makes a retried caller queue it only once. */
export async function queueSms(queues: QueueFactory, jobId: string, job: SingleSmsJob): Promise<void> {
  await queues.create<SingleSmsJob>(SMS_QUEUE).add(job, { ...OPTIONS, jobId });
}
