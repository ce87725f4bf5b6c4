import type { SmsRoute } from '../config/sms-routes';
import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import type { PhoneProtection } from '../shared/phone-protection';
import { CAMPAIGN_PURPOSE, GatewayError, type RecipientResult, type SmsGateway } from '../gateway/sms-gateway';
import type { RouteBinds } from '../gateway/route-binds';
import { sleep } from '../platform/with-timeout';
import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import type { BatchCalls } from './batch-calls';
import { closeBatch, recordAnswers, result } from './batch-outcomes';
import { SEND_BATCH, SEND_JOB_OPTIONS, type CampaignJob, type CampaignSettings, type SendBatchJob } from './campaign-jobs';
import type { Campaign, CampaignStore } from './campaign-store';
import type { MessageStore } from './message-store';
import type { PollSends } from './poll-sends';
import { reconcile } from './reconcile-batch';
import type { RunProgressStore } from './run-progress';
import { isOpen, nextOpen } from './send-window';
import type { TakeTurn } from './send-turns';

export interface SendDeps {
  campaigns: Pick<CampaignStore, 'get'>;
  messages: MessageStore;
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  progress: RunProgressStore;
  /** Who was sent a poll, for its replies. */
  pollSends: PollSends;
  /** Each batch's gateway call, kept beside the batch in Redis until the batch is closed. */
  calls: BatchCalls;
  /** For a batch without a route (written before routes, or its route since taken out): each number over its own route. */
  gateway: SmsGateway;
  routes: readonly SmsRoute[];
  /** The gateway of a batch's route (its Kannel smsc or AT account, its sender ID). */
  gatewayOf(route: string): SmsGateway | undefined;
  /** Whether a route's operator bind is up (Kannel's status.txt, a few seconds old at most). */
  binds: RouteBinds;
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
/** A batch whose route's bind is offline looks again this long after (status.txt is read every 3 s at most). */
const BIND_WAIT_MS = 5_000;

/**
 * Sends one batch: claims it (status "sending"), leaves out whoever opted out since the fan-out,
 * sends the rest in one gateway call, and records each recipient's result. A batch found
 * "sending" was cut off (a dying worker, failing writes): what the gateway answered is written, a batch
 * known not sent is sent, and only recipients whose call may have been sent unanswered are unknown.
 */
export async function sendCampaignBatch(deps: SendDeps, job: SendBatchJob): Promise<void> {
  // One job at a time per batch (a resume, a quiet-hours re-queue or a stalled job may bring
  // another): the holder renews its lease while it works, however slow the gateway or the writes;
  // a batch still "sending" once the lease has lapsed was cut off by a dying worker.
  const lease = await deps.claimBatch(job.batchId);
  if (!lease) {
    await deps.queue.add(SEND_BATCH, job, { ...SEND_JOB_OPTIONS, jobId: `${job.batchId}@wait${deps.now().getTime()}`, delay: 3_000 });
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
  if (batch.status === 'sending') {
    const call = await deps.calls.get(batchId);
    // The gateway's answer survived (the writes after it failed, or the worker died): finish writing it.
    if (call?.state === 'answered') return recordAnswers(deps, batch, call.answers);
    // Only a batch whose call may have reached the gateway without an answer is reconciled; one known
    // not to have been sent (claimed, or refused as a whole) is sent like a queued one.
    if (call?.state !== 'ready' && call?.state !== 'refused') return reconcile(deps, batch);
  }
  if (status === 'cancelled') {
    return closeBatch(
      deps,
      batch,
      batch.recipients.map((r) => result(batch, r, 'cancelled', 0, 'Cancelled')),
      { cancelled: batch.recipients.length },
    );
  }
  // Paused (resume queues it again) or not started; a batch known not sent waits "queued" for resume.
  if (status !== 'running') return void (batch.status === 'sending' && (await deps.messages.setBatchStatus(batchId, 'queued', deps.now())));

  const campaign = (await deps.campaigns.get(campaignId)) as Campaign;
  const now = deps.now();
  if (!isOpen(campaign.sendWindow, now)) {
    // Quiet hours: the same batch, later (a new job id, since this job is finishing).
    await deps.queue.add(SEND_BATCH, job, {
      ...SEND_JOB_OPTIONS,
      jobId: `${batchId}@${nextOpen(campaign.sendWindow, now).toISOString()}`,
      delay: nextOpen(campaign.sendWindow, now).getTime() - now.getTime(),
    });
    return;
  }

  const route = batch.route === undefined ? undefined : deps.routes.find((r) => r.name === batch.route);
  if (route && !(await deps.binds.routeOnline(route))) {
    // The operator's bind is down: Kannel would take the batch ("Queued for later delivery") and send all it held at
    // once when the bind returns, outside the route's turns. The batch waits "queued" instead, with no turn booked,
    // not counted failed; other routes' batches go on.
    deps.logger.debug({ batch: batchId, route: route.name }, 'route bind offline: batch waits');
    await deps.queue.add(SEND_BATCH, job, {
      ...SEND_JOB_OPTIONS,
      jobId: `${batchId}@bind${now.getTime()}`,
      delay: BIND_WAIT_MS + Math.floor(Math.random() * MAX_TURN_WAIT_MS),
    });
    return;
  }
  const turn = await deps.takeTurn(campaign, batch.recipients.length, MAX_TURN_WAIT_MS, route);
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
  const toSend = batch.recipients.filter((_, i) => !optedOut[i]);
  // The call's record goes first, in Redis: a store that fails after the gateway answered loses nothing.
  await deps.calls.save(batchId, { state: 'ready' });
  await deps.messages.setBatchStatus(batchId, 'sending', deps.now());
  let answers: RecipientResult[] = [];
  if (toSend.length > 0) {
    try {
      await deps.calls.save(batchId, { state: 'calling' });
      const gateway = (route && deps.gatewayOf(route.name)) ?? deps.gateway;
      answers = await gateway.send({
        to: toSend.map((r) => deps.protection.decrypt(r.sealed)),
        text: batch.text,
        purpose: CAMPAIGN_PURPOSE,
        ...(campaign.senderId ? { from: campaign.senderId } : {}),
      });
    } catch (err) {
      // Refused as a whole: nothing was sent, so whoever takes the batch next may send it.
      await deps.calls.save(batchId, { state: 'refused' });
      await deps.messages.setBatchStatus(batchId, 'queued', deps.now());
      if (err instanceof GatewayError && err.kind !== 'transient') {
        await deps.stopCampaign(
          campaignId,
          err.kind === 'auth'
            ? 'The SMS gateway refused our credentials (401)'
            : err.kind === 'balance'
              ? 'The SMS account is out of credit'
              : `The SMS gateway refused the campaign: ${err.message}`,
        );
        return;
      }
      throw err; // transient: Bull retries this job with backoff
    }
  }
  const answered = toSend.map((recipient, i) => ({ message: recipient.message, answer: answers[i] ?? null }));
  await deps.calls.save(batchId, { state: 'answered', answers: answered });
  await recordAnswers(deps, batch, answered);
}
