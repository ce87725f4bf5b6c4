import { closeBatch, queueRetry, result, retryBatchId } from './batch-outcomes';
import type { CampaignBatch, SendResult } from './message-store';
import type { SendDeps } from './send-campaign-batch';

/**
 * A worker died (or its writes failed) between claiming and closing a batch, and no answer of the
 * gateway survived. What has a result keeps it (and is counted now if the close did not get that far);
 * whoever the gateway refused for a while is in the retry batch if that was written, and is that
 * batch's to send and count; the rest is "unknown": maybe sent, never resent. Their delivery reports
 * can still name them (by phone), so they are kept for linking back.
 */
export async function reconcile(deps: SendDeps, batch: CampaignBatch): Promise<void> {
  const recorded = await deps.messages.resultsOfBatch(batch.recipients.map((r) => r.message));
  const retryBatch = await deps.messages.getBatch(retryBatchId(batch));
  // Written before the crash, maybe without its job: queue it (again: the job id makes it once).
  if (retryBatch?.status === 'queued') await queueRetry(deps, retryBatch);
  const retrying = new Set((retryBatch?.recipients ?? []).map((r) => r.message));
  // A retried recipient's result is its retry batch's to count, even when that batch already ran and
  // recorded it: this batch counts only what it recorded itself, so no recipient is counted twice.
  // An "unknown" written by a reconcile killed before it counted is unknown again here, counted once by the close.
  const own = recorded.filter((r) => !retrying.has(r.message) && r.outcome !== 'unknown');
  const have = new Set([...own.map((r) => r.message), ...retrying]);
  const unknown = batch.recipients.filter((r) => !have.has(r.message));
  deps.logger.warn(
    { batch: batch._id, unknown: unknown.length, recorded: own.length, retrying: retrying.size },
    'batch was cut off mid-send: not resending, marking unknown',
  );
  const count = (outcome: SendResult['outcome']) => own.filter((r) => r.outcome === outcome).length;
  const counts = {
    sent: count('accepted'),
    failed: count('failed'),
    optedOut: count('opted_out'),
    cancelled: count('cancelled'),
    costMilli: Math.round(own.reduce((sum, r) => sum + r.cost, 0) * 1_000),
    unknown: unknown.length,
  };
  const unknownResults = unknown.map((r) => result(batch, r, 'unknown', 0, 'Cut off mid-send'));
  await closeBatch(deps, batch, unknownResults, counts, own, unknown.map(({ message, subscriber }) => ({ message, subscriber })));
}
