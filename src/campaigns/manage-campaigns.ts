import { AppError } from '../platform/app-error';
import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import type { WithLock } from '../platform/redis-lock';
import type { PhoneProtection } from '../shared/phone-protection';
import type { SingleSmsJob } from '../gateway/sms-queue';
import {
  ARCHIVE_JOB_OPTIONS,
  ARCHIVE_RUN,
  CHECK_RELATIVE,
  FAN_OUT,
  FAN_OUT_JOB_OPTIONS,
  SEND_BATCH,
  SEND_JOB_OPTIONS,
  type CampaignJob,
  type CampaignSettings,
} from './campaign-jobs';
import type { Campaign, CampaignStatus, CampaignStore, NewCampaign } from './campaign-store';
import { sendRate, textFor } from './fan-out-campaign-run';
import { advanceOpenTime } from './send-window';
import type { MessageStore } from './message-store';
import { RUN_KEYS_GRACE_MS, waitingOf, type RunProgressStore } from './run-progress';

export interface ManageDeps {
  campaigns: CampaignStore;
  messages: MessageStore;
  progress: RunProgressStore;
  queue: TypedQueue<CampaignJob>;
  withLock: WithLock;
  protection: PhoneProtection;
  settings: Pick<CampaignSettings, 'batchSize' | 'maxPerSecond' | 'reportPeriodMs'>;
  queueSms(jobId: string, job: SingleSmsJob): Promise<void>;
  addRun(campaignId: string, runId: string): Promise<void>;
  now(): Date;
  logger: Logger;
}

const TZ = 'Africa/Bamako';
const conflict = (message: string) => new AppError(409, 'conflict', message);

// Bull 4 splits a repeatable job's key on ':' to list it, so these ids have none.
const recurringJobId = (campaignId: string): string => `recurring-${campaignId}`;
const relativeJobId = (campaignId: string): string => `relative-${campaignId}`;
const RELATIVE_CHECK_EVERY_MS = 3_600_000;

/** The first run of a one-off or relative campaign; recurring runs are named by their time. */
export const firstRunOf = (campaignId: string): string => `${campaignId}~1`;

/**
 * A manager's actions on a campaign: the state machine draft -> scheduled -> running -> paused ->
 * completed | cancelled. Status changes reach Redis at once, where every sender looks before each
 * batch: a pause or a cancel acts on the next batch, within a second or two.
 */
export function createCampaignManagement(deps: ManageDeps) {
  async function setStatus(campaign: Campaign, status: CampaignStatus, extra: Partial<Campaign> = {}): Promise<Campaign> {
    // Redis first, where the senders look. The other way round, a cancel stored in MongoDB whose
    // Redis write failed would let the campaign send again once Redis is back, and the manager's
    // retry would be refused as "already cancelled"; this way a failed MongoDB write leaves the
    // senders stopped and the retry finds the old status and finishes the change.
    // A final status stays in Redis for the report period (jobs still in flight look), then senders read MongoDB's.
    const final = status === 'completed' || status === 'cancelled';
    await deps.progress.setStatus(campaign._id, status, final ? deps.settings.reportPeriodMs : undefined);
    await deps.campaigns.update(campaign._id, { status, ...extra });
    return { ...campaign, status, ...extra };
  }
  /**
   * A run whose fan-out is done and whose batches are all closed has ended (a relative campaign's
   * one run, only once the campaign is over). Its live counters stay for the report period, while
   * delivery reports come in; then the archive job keeps its final figures in MongoDB and drops its
   * keys. Each step is idempotent (the job by its id, the expiry by the end time kept in the run),
   * and the job is queued first, so a crash in between still leaves nothing behind. Caller holds the lock.
   */
  async function endRunIfDone(campaign: Campaign, runId: string): Promise<Campaign> {
    const progress = await deps.progress.live(runId);
    if (!progress?.fanoutDone || progress.batchesPending > 0) return campaign;
    let current = campaign;
    if (current.status === 'running' && (current.schedule.kind === 'now' || current.schedule.kind === 'at')) {
      current = await setStatus(current, 'completed');
    }
    if (current.schedule.kind === 'relative' && current.status !== 'completed' && current.status !== 'cancelled') return current;
    const keep = deps.settings.reportPeriodMs;
    await deps.queue.add(
      ARCHIVE_RUN,
      { campaignId: current._id, runId },
      { ...ARCHIVE_JOB_OPTIONS, jobId: `archive:${runId}`, delay: keep },
    );
    await deps.messages.saveRunFigures({ _id: runId, campaign: current._id, figures: progress, final: false, at: deps.now() });
    await deps.progress.endRun(runId, keep + RUN_KEYS_GRACE_MS);
    return current;
  }
  const locked = <T>(id: string, work: (campaign: Campaign) => Promise<T>): Promise<T> =>
    deps.withLock(`campaign:${id}`, async () => {
      const campaign = await deps.campaigns.get(id);
      if (!campaign) throw AppError.notFound('No such campaign');
      return work(campaign);
    });

  async function startRun(campaign: Campaign, runId: string, delayMs: number, joinedBefore = ''): Promise<void> {
    await deps.addRun(campaign._id, runId);
    await deps.queue.add(
      FAN_OUT,
      { campaignId: campaign._id, runId, startedAt: new Date(deps.now().getTime() + delayMs).toISOString(), joinedBefore, joinedAfter: '' },
      { ...FAN_OUT_JOB_OPTIONS, jobId: `fan-out:${runId}`, delay: delayMs },
    );
  }

  return {
    create: (input: NewCampaign) => deps.campaigns.create(input),

    schedule: (id: string) =>
      locked(id, async (campaign) => {
        if (campaign.status !== 'draft') throw conflict(`Only a draft can be scheduled (this one is ${campaign.status})`);
        if (Object.keys(campaign.texts).length === 0) throw AppError.badRequest('Write the message in at least one language first');
        const { schedule } = campaign;
        const scheduledAt = deps.now();
        switch (schedule.kind) {
          case 'now':
            await startRun(campaign, firstRunOf(id), 0);
            return setStatus(campaign, 'running', { scheduledAt });
          case 'at':
            if (schedule.at.getTime() < scheduledAt.getTime() - 60_000) throw AppError.badRequest('The time is in the past');
            await startRun(campaign, firstRunOf(id), Math.max(0, schedule.at.getTime() - scheduledAt.getTime()));
            return setStatus(campaign, 'scheduled', { scheduledAt });
          case 'recurring':
            await deps.queue.add(
              FAN_OUT,
              { campaignId: id, runId: '', startedAt: '', joinedBefore: '', joinedAfter: '' },
              { ...FAN_OUT_JOB_OPTIONS, repeat: { cron: schedule.cron, tz: TZ }, jobId: recurringJobId(id), removeOnComplete: 100 },
            );
            return setStatus(campaign, 'scheduled', { scheduledAt });
          case 'relative':
            await deps.addRun(id, firstRunOf(id));
            await deps.queue.add(
              CHECK_RELATIVE,
              { campaignId: id, runId: firstRunOf(id), startedAt: '', joinedBefore: '', joinedAfter: '' },
              { repeat: { every: RELATIVE_CHECK_EVERY_MS }, jobId: relativeJobId(id), removeOnComplete: 100 },
            );
            await deps.queue.add(
              CHECK_RELATIVE,
              { campaignId: id, runId: firstRunOf(id), startedAt: '', joinedBefore: '', joinedAfter: '' },
              { jobId: `relative:${id}:first`, removeOnComplete: 100 },
            );
            return setStatus(campaign, 'running', { scheduledAt });
        }
      }),

    pause: (id: string) =>
      locked(id, async (campaign) => {
        if (campaign.status !== 'running' && campaign.status !== 'scheduled') {
          throw conflict(`Only a running or scheduled campaign can be paused (this one is ${campaign.status})`);
        }
        return setStatus(campaign, 'paused');
      }),

    /** Sends what was left, from now, at the campaign's pace. */
    resume: (id: string) =>
      locked(id, async (campaign) => {
        if (campaign.status !== 'paused') throw conflict(`Only a paused campaign can be resumed (this one is ${campaign.status})`);
        const resumed = await setStatus(campaign, 'running', { stoppedReason: null });
        const now = deps.now();
        const { runs } = campaign;
        const waiting = (await Promise.all(runs.map((run) => deps.messages.pendingBatches(run))))
          .flat()
          .filter((batch) => batch.status === 'queued');
        const left = (await Promise.all(runs.map((run) => deps.progress.get(run)))).reduce((sum, p) => sum + waitingOf(p), 0);
        // The campaign's own pace (a deadline counts from now), inside its send window.
        const interval = (deps.settings.batchSize / sendRate(campaign, left, deps.settings.maxPerSecond)) * 1_000;
        await deps.queue.addBulk(
          waiting.map((batch, index) => {
            const at = advanceOpenTime(campaign.sendWindow, now, index * interval);
            return {
              name: SEND_BATCH,
              data: { campaignId: id, batchId: batch._id },
              opts: { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@resume${now.getTime()}`, delay: Math.max(0, at.getTime() - now.getTime()) },
            };
          }),
        );
        return resumed;
      }),

    cancel: (id: string) =>
      locked(id, async (campaign) => {
        if (campaign.status === 'completed' || campaign.status === 'cancelled') {
          throw conflict(`This campaign is already ${campaign.status}`);
        }
        const cancelled = await setStatus(campaign, 'cancelled');
        // Queued batches are closed by their jobs (they see "cancelled"); paused ones have no job: close them now.
        for (const run of campaign.runs) {
          for (const batch of await deps.messages.pendingBatches(run)) {
            if (batch.status === 'queued') {
              await deps.queue.add(
                SEND_BATCH,
                { campaignId: id, batchId: batch._id },
                { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@cancel` },
              );
            }
          }
        }
        if (campaign.schedule.kind === 'recurring') {
          await deps.queue
            .removeRepeatable(FAN_OUT, { cron: campaign.schedule.cron, tz: TZ, jobId: recurringJobId(id) })
            .catch(() => undefined);
        }
        if (campaign.schedule.kind === 'relative') {
          await deps.queue
            .removeRepeatable(CHECK_RELATIVE, { every: RELATIVE_CHECK_EVERY_MS, jobId: relativeJobId(id) })
            .catch(() => undefined);
        }
        // Runs with nothing left to close end now; the others when their last batch closes.
        for (const run of campaign.runs) await endRunIfDone(cancelled, run);
        return cancelled;
      }),

    /** Each language's text to the given staff numbers (E.164), marked as a test; counts nowhere. */
    async testSend(id: string, phones: readonly string[]): Promise<number> {
      const campaign = await deps.campaigns.get(id);
      if (!campaign) throw AppError.notFound('No such campaign');
      let queued = 0;
      for (const phone of phones) {
        for (const language of Object.keys(campaign.texts)) {
          await deps.queueSms(`campaign-test:${id}:${deps.protection.hash(phone).slice(0, 16)}:${language}:${deps.now().getTime()}`, {
            toSealed: deps.protection.encrypt(phone),
            text: `[TEST] ${textFor(campaign, language) ?? ''}`,
            purpose: 'campaign.test',
            reference: id,
          });
          queued += 1;
        }
      }
      return queued;
    },

    /** Called when a batch or the fan-out ends: a one-off campaign whose last batch is done is completed, and the run ends. */
    async finishRunIfDone(campaignId: string, runId: string): Promise<void> {
      const progress = await deps.progress.live(runId);
      if (!progress?.fanoutDone || progress.batchesPending > 0) return;
      await deps.withLock(`campaign:${campaignId}`, async () => {
        const campaign = await deps.campaigns.get(campaignId);
        if (campaign) await endRunIfDone(campaign, runId);
      });
    },

    /** The report period of an ended run is over: its final figures go to MongoDB, its Redis keys away. */
    async archiveRun(campaignId: string, runId: string): Promise<void> {
      const progress = await deps.progress.live(runId);
      if (progress) {
        await deps.messages.saveRunFigures({ _id: runId, campaign: campaignId, figures: progress, final: true, at: deps.now() });
      }
      await deps.progress.forget(runId);
    },

    /** The gateway refused the campaign (credentials, credit): pause it with the reason shown. */
    stopCampaign: (campaignId: string, reason: string) =>
      deps.withLock(`campaign:${campaignId}`, async () => {
        const campaign = await deps.campaigns.get(campaignId);
        if (campaign && campaign.status === 'running') {
          await setStatus(campaign, 'paused', { stoppedReason: reason });
          deps.logger.error({ campaign: campaignId, reason }, 'campaign stopped by the gateway');
        }
      }),

    setStatus,
  };
}

export type CampaignManagement = ReturnType<typeof createCampaignManagement>;
