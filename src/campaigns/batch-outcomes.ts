import type { RecipientResult } from '../gateway/sms-gateway';
import { SEND_BATCH, SEND_JOB_OPTIONS, retryDelayMs } from './campaign-jobs';
import type { BatchRecipient, CampaignBatch, SendResult } from './message-store';
import type { ProgressField } from './run-progress';
import type { SendDeps } from './send-campaign-batch';

const costOf = (cost: string | undefined): number => Number(/([\d.]+)\s*$/.exec(cost ?? '')?.[1] ?? 0);

/** The batch that takes a batch's transient failures to the gateway again, later. */
export const retryBatchId = (batch: CampaignBatch): string => `${batch._id}~${batch.retry + 1}`;

export async function queueRetry(deps: SendDeps, retryBatch: CampaignBatch): Promise<void> {
  await deps.progress.addPending(retryBatch.run, retryBatch._id);
  const delay = retryDelayMs(retryBatch.retry, deps.settings.retryDelayMs);
  const job = { campaignId: retryBatch.campaign, batchId: retryBatch._id };
  await deps.queue.add(SEND_BATCH, job, { ...SEND_JOB_OPTIONS, jobId: retryBatch._id, delay });
}

export function result(
  batch: CampaignBatch,
  recipient: BatchRecipient,
  outcome: SendResult['outcome'],
  statusCode: number,
  status: string,
): SendResult {
  const { message, subscriber } = recipient;
  const { campaign, run } = batch;
  return { _id: `x:${message}`, message, campaign, run, subscriber, outcome, statusCode, status, cost: 0, parts: 0, at: new Date() };
}

/** Who of a batch is "unknown" (maybe sent, no answer): their delivery reports may still name them by phone. */
export type UnknownSend = Pick<BatchRecipient, 'message' | 'subscriber'>;

/**
 * A poll campaign's recipients who got the question (accepted, or unknown: a reply proves it came) may answer
 * it: each is marked in Redis for the poll's window, before the batch is counted closed (a failure retries it).
 */
async function markPolled(deps: SendDeps, batch: CampaignBatch, phoneHashes: readonly string[]): Promise<void> {
  if (phoneHashes.length === 0) return;
  const poll = (await deps.campaigns.get(batch.campaign))?.poll;
  if (!poll) return;
  const windowMs = Math.ceil(poll.windowHours * 3_600_000);
  await deps.pollSends.mark(phoneHashes, { campaign: batch.campaign, language: batch.language, sentAt: deps.now().getTime(), windowMs });
}

/**
 * Results first, then the counts with the accepted messageIds' map (once per batch, whatever happens),
 * then the batch is marked closed and its call record dropped. `recorded`: accepted results written
 * before a crash, mapped too; `unknown`: recipients counted unknown, whom a later report may link back.
 */
export async function closeBatch(
  deps: SendDeps,
  batch: CampaignBatch,
  results: SendResult[],
  counts: Partial<Record<ProgressField, number>>,
  recorded: readonly SendResult[] = [],
  unknown: readonly UnknownSend[] = [],
): Promise<void> {
  await deps.messages.insertResults(results);
  const acceptedResults = [...recorded, ...results].filter((r) => r.outcome === 'accepted');
  await markPolled(deps, batch, [...acceptedResults, ...unknown].map((r) => r.subscriber));
  const accepted = acceptedResults.map((r) => r._id);
  await deps.progress.closeBatch(batch.run, batch._id, counts, accepted, unknown);
  const allCancelled = batch.recipients.length > 0 && counts.cancelled === batch.recipients.length;
  await deps.messages.setBatchStatus(batch._id, allCancelled ? 'cancelled' : 'done', deps.now());
  await deps.calls.forget(batch._id);
  await deps.finishRunIfDone(batch.campaign, batch.run);
}

/**
 * Writes what the gateway answered for a batch, by message (the recipients it was not sent to had opted
 * out): accepted ones keyed by their messageId, transient refusals into the retry batch (or failed past
 * the retries), permanent ones failed with the subscriber flagged. Run again with the same answers (a
 * retry after the store failed, another worker), it writes nothing twice and counts once.
 */
export async function recordAnswers(
  deps: SendDeps,
  batch: CampaignBatch,
  answered: ReadonlyArray<{ message: string; answer: RecipientResult | null }>,
): Promise<void> {
  const answers = new Map(answered.map((a) => [a.message, a.answer]));
  const skipped = batch.recipients.filter((r) => !answers.has(r.message));
  const results: SendResult[] = skipped.map((r) => result(batch, r, 'opted_out', 0, 'Opted out'));
  const retry: BatchRecipient[] = [];
  const flagged: string[] = [];
  for (const recipient of batch.recipients.filter((r) => answers.has(r.message))) {
    const answer = answers.get(recipient.message);
    if (answer?.outcome === 'accepted' && answer.messageId) {
      const sent = result(batch, recipient, 'accepted', answer.statusCode, answer.status);
      results.push({ ...sent, _id: answer.messageId, cost: costOf(answer.cost), parts: answer.parts ?? 0 });
    } else if (!answer || answer.outcome === 'transient') {
      if (batch.retry < deps.settings.maxRetries) retry.push(recipient);
      else results.push(result(batch, recipient, 'failed', answer?.statusCode ?? 0, answer?.status ?? 'No answer'));
    } else {
      results.push(result(batch, recipient, 'failed', answer.statusCode, answer.status));
      flagged.push(recipient.subscriber);
    }
  }
  for (const subscriber of flagged) await deps.subscribers.flag(subscriber, 'refused by the gateway', deps.now());
  if (retry.length > 0) {
    const retryBatch: CampaignBatch = {
      ...batch,
      _id: retryBatchId(batch),
      recipients: retry,
      status: 'queued',
      retry: batch.retry + 1,
      updatedAt: deps.now(),
    };
    await deps.messages.insertBatch(retryBatch);
    await queueRetry(deps, retryBatch);
  }
  const accepted = results.filter((r) => r.outcome === 'accepted');
  await closeBatch(deps, batch, results, {
    sent: accepted.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    optedOut: skipped.length,
    costMilli: Math.round(accepted.reduce((sum, r) => sum + r.cost, 0) * 1_000),
  });
}
