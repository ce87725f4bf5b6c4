import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import type { PhoneProtection } from '../shared/phone-protection';
import { CAMPAIGN_PURPOSE, GatewayError, type RecipientResult, type SmsGateway } from '../sms/sms-gateway';
import { sleep } from '../platform/with-timeout';
import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import { SEND_BATCH, SEND_JOB_OPTIONS, retryDelayMs, type CampaignJob, type CampaignSettings, type SendBatchJob } from './campaign-jobs';
import type { Campaign, CampaignStore } from './campaign-store';
import type { BatchRecipient, CampaignBatch, MessageStore, SendResult } from './message-store';
import type { ProgressField, RunProgressStore } from './run-progress';
import { isOpen, nextOpen } from './send-window';
import type { TakeTurn } from './send-turns';

export interface SendDeps {
  campaigns: Pick<CampaignStore, 'get'>;
  messages: MessageStore;
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  progress: RunProgressStore;
  gateway: SmsGateway;
  takeTurn: TakeTurn;
  protection: PhoneProtection;
  queue: TypedQueue<CampaignJob>;
  settings: CampaignSettings;
  /** A lease on one batch (null: another job holds it). */
  claimBatch(batchId: string): Promise<{ release(): Promise<void> } | null>;
  /** Stops a campaign by itself (credentials refused, no credit), with the reason the manager sees. */
  stopCampaign(campaignId: string, reason: string): Promise<void>;
  finishRunIfDone(campaignId: string, runId: string): Promise<void>;
  now(): Date;
  logger: Logger;
}

/** A batch waits this long at most for its turn at the gateway; beyond, it is queued again for its time. */
const MAX_TURN_WAIT_MS = 2_000;
const costOf = (cost: string | undefined): number => Number(/([\d.]+)\s*$/.exec(cost ?? '')?.[1] ?? 0);

/**
 * Sends one batch: claims it (status "sending"), leaves out whoever opted out since the fan-out,
 * sends the rest in one gateway call, and records each recipient's result. A batch found
 * "sending" was cut off by a dying worker: its recipients are marked unknown, never resent.
 */
export async function sendCampaignBatch(deps: SendDeps, job: SendBatchJob): Promise<void> {
  // One job at a time per batch (a resume, a quiet-hours re-queue or a stalled job may bring
  // another): the holder renews its lease while it works, however slow the gateway or the writes;
  // a batch still "sending" once the lease has lapsed was cut off by a dying worker.
  const lease = await deps.claimBatch(job.batchId);
  if (!lease) {
    await deps.queue.add(SEND_BATCH, job, { ...SEND_JOB_OPTIONS, jobId: `${job.batchId}@wait${deps.now().getTime()}`, delay: 10_000 });
    return;
  }
  try {
    await sendClaimedBatch(deps, job);
  } finally {
    await lease.release();
  }
}

async function sendClaimedBatch(deps: SendDeps, job: SendBatchJob): Promise<void> {
  const { campaignId, batchId } = job;
  const batch = await deps.messages.getBatch(batchId);
  if (!batch) return;
  if (batch.status === 'done' || batch.status === 'cancelled') {
    // Closed before a crash cut the job short: make sure it is counted and off the pending set.
    await deps.progress.closeBatch(batch.run, batch._id, {});
    return deps.finishRunIfDone(campaignId, batch.run);
  }
  const status = (await deps.progress.status(campaignId)) ?? (await deps.campaigns.get(campaignId))?.status;
  if (batch.status === 'sending') return reconcile(deps, batch);
  if (status === 'cancelled') return closeBatch(deps, batch, batch.recipients.map((r) => result(batch, r, 'cancelled', 0, 'Cancelled')), { cancelled: batch.recipients.length });
  if (status !== 'running') return; // paused (resume queues it again) or not started

  const campaign = (await deps.campaigns.get(campaignId)) as Campaign;
  const now = deps.now();
  if (!isOpen(campaign.sendWindow, now)) {
    // Quiet hours: the same batch, later (a new job id, since this job is finishing).
    await deps.queue.add(SEND_BATCH, job, { ...SEND_JOB_OPTIONS, jobId: `${batchId}@${nextOpen(campaign.sendWindow, now).toISOString()}`, delay: nextOpen(campaign.sendWindow, now).getTime() - now.getTime() });
    return;
  }

  const turn = await deps.takeTurn(campaign, batch.recipients.length, MAX_TURN_WAIT_MS);
  if (!turn.granted) {
    // Spread the batches that were refused together, so they do not all come back at the same instant.
    const delay = turn.waitMs + Math.floor(Math.random() * MAX_TURN_WAIT_MS);
    await deps.queue.add(SEND_BATCH, job, { ...SEND_JOB_OPTIONS, jobId: `${batchId}@turn${now.getTime()}`, delay });
    return;
  }
  if (turn.waitMs > 0) {
    await sleep(turn.waitMs);
    // Paused or cancelled meanwhile: the batch is still "queued", for resume or cancel to take.
    if ((await deps.progress.status(campaignId)) !== 'running') return;
  }

  const optedOut = await deps.optouts.which(batch.recipients.map((r) => r.subscriber));
  const skipped = batch.recipients.filter((_, i) => optedOut[i]);
  const toSend = batch.recipients.filter((_, i) => !optedOut[i]);
  await deps.messages.setBatchStatus(batchId, 'sending', deps.now());
  let answers: RecipientResult[] = [];
  if (toSend.length > 0) {
    try {
      answers = await deps.gateway.send({ to: toSend.map((r) => deps.protection.decrypt(r.sealed)), text: batch.text, purpose: CAMPAIGN_PURPOSE, ...(campaign.senderId ? { from: campaign.senderId } : {}) });
    } catch (err) {
      await deps.messages.setBatchStatus(batchId, 'queued', deps.now());
      if (err instanceof GatewayError && err.kind !== 'transient') {
        await deps.stopCampaign(campaignId, err.kind === 'auth' ? 'The SMS gateway refused our credentials (401)' : err.kind === 'balance' ? 'The SMS account is out of credit' : `The SMS gateway refused the campaign: ${err.message}`);
        return;
      }
      throw err; // transient: Bull retries this job with backoff
    }
  }

  const results: SendResult[] = skipped.map((r) => result(batch, r, 'opted_out', 0, 'Opted out'));
  const retry: BatchRecipient[] = [];
  const flagged: string[] = [];
  toSend.forEach((recipient, i) => {
    const answer = answers[i];
    if (answer?.outcome === 'accepted' && answer.messageId) {
      results.push({ ...result(batch, recipient, 'accepted', answer.statusCode, answer.status), _id: answer.messageId, cost: costOf(answer.cost), parts: answer.parts ?? 0 });
    } else if (!answer || answer.outcome === 'transient') {
      if (batch.retry < deps.settings.maxRetries) retry.push(recipient);
      else results.push(result(batch, recipient, 'failed', answer?.statusCode ?? 0, answer?.status ?? 'No answer'));
    } else {
      results.push(result(batch, recipient, 'failed', answer.statusCode, answer.status));
      flagged.push(recipient.subscriber);
    }
  });
  for (const subscriber of flagged) await deps.subscribers.flag(subscriber, 'refused by the gateway', deps.now());
  if (retry.length > 0) {
    const retryBatch: CampaignBatch = { ...batch, _id: retryBatchId(batch), recipients: retry, status: 'queued', retry: batch.retry + 1, updatedAt: deps.now() };
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

/** The batch that takes a batch's transient failures to the gateway again, later. */
const retryBatchId = (batch: CampaignBatch): string => `${batch._id}~${batch.retry + 1}`;

async function queueRetry(deps: SendDeps, retryBatch: CampaignBatch): Promise<void> {
  await deps.progress.addPending(retryBatch.run, retryBatch._id);
  await deps.queue.add(SEND_BATCH, { campaignId: retryBatch.campaign, batchId: retryBatch._id }, { ...SEND_JOB_OPTIONS, jobId: retryBatch._id, delay: retryDelayMs(retryBatch.retry, deps.settings.retryDelayMs) });
}

function result(batch: CampaignBatch, recipient: BatchRecipient, outcome: SendResult['outcome'], statusCode: number, status: string): SendResult {
  return { _id: `x:${recipient.message}`, message: recipient.message, campaign: batch.campaign, run: batch.run, subscriber: recipient.subscriber, outcome, statusCode, status, cost: 0, parts: 0, at: new Date() };
}

/**
 * Results first, then the counts with the accepted messageIds' map (once per batch, whatever happens),
 * then the batch is marked closed. `recorded`: accepted results written before a crash, mapped too.
 */
async function closeBatch(deps: SendDeps, batch: CampaignBatch, results: SendResult[], counts: Partial<Record<ProgressField, number>>, recorded: readonly SendResult[] = []): Promise<void> {
  await deps.messages.insertResults(results);
  const accepted = [...recorded, ...results].filter((r) => r.outcome === 'accepted').map((r) => r._id);
  await deps.progress.closeBatch(batch.run, batch._id, counts, accepted);
  await deps.messages.setBatchStatus(batch._id, batch.recipients.length && counts.cancelled === batch.recipients.length ? 'cancelled' : 'done', deps.now());
  await deps.finishRunIfDone(batch.campaign, batch.run);
}

/**
 * A worker died between claiming and closing a batch. What has a result keeps it (and is counted
 * now if the close did not get that far); whoever the gateway refused for a while is in the retry
 * batch if that was written, and is that batch's to send and count; the rest is "unknown": maybe
 * sent, never resent.
 */
async function reconcile(deps: SendDeps, batch: CampaignBatch): Promise<void> {
  const recorded = await deps.messages.resultsOfBatch(batch.recipients.map((r) => r.message));
  const retryBatch = await deps.messages.getBatch(retryBatchId(batch));
  // Written before the crash, maybe without its job: queue it (again: the job id makes it once).
  if (retryBatch?.status === 'queued') await queueRetry(deps, retryBatch);
  const retrying = new Set((retryBatch?.recipients ?? []).map((r) => r.message));
  // A retried recipient's result is its retry batch's to count, even when that batch already ran and
  // recorded it: this batch counts only what it recorded itself, so no recipient is counted twice.
  const own = recorded.filter((r) => !retrying.has(r.message));
  const have = new Set([...own.map((r) => r.message), ...retrying]);
  const unknown = batch.recipients.filter((r) => !have.has(r.message));
  deps.logger.warn({ batch: batch._id, unknown: unknown.length, recorded: own.length, retrying: retrying.size }, 'batch was cut off mid-send: not resending, marking unknown');
  const count = (outcome: SendResult['outcome']) => own.filter((r) => r.outcome === outcome).length;
  await closeBatch(deps, batch, unknown.map((r) => result(batch, r, 'unknown', 0, 'Cut off mid-send')), {
    sent: count('accepted'),
    failed: count('failed'),
    optedOut: count('opted_out'),
    cancelled: count('cancelled'),
    costMilli: Math.round(own.reduce((sum, r) => sum + r.cost, 0) * 1_000),
    unknown: unknown.length,
  }, own);
}
