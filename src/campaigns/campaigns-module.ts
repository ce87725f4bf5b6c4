import { processWith } from '../platform/queues';
import { takeLease } from '../platform/redis-lease';
import type { SafelineModule } from '../safeline';
import { smsRoutingOf } from '../gateway/create-gateway';
import { campaignApiRouters } from './campaign-routes';
import { deliveryReportCallbacks } from './delivery-report-callbacks';
import { campaignDepsOf } from './campaign-deps';
import {
  ARCHIVE_RUN,
  CHECK_RELATIVE,
  FAN_OUT,
  SEND_BATCH,
  SEND_JOB_OPTIONS,
  type ArchiveRunJob,
  type FanOutJob,
  type SendBatchJob,
} from './campaign-jobs';
import { firstRunOf } from './manage-campaigns';
import { fanOutCampaignRun } from './fan-out-campaign-run';
import { sendCampaignBatch } from './send-campaign-batch';
import { createSendTurns } from './send-turns';
import { startDeliveryReportApplier } from './delivery-reports';
import { recentCampaigns } from './recent-campaigns';

const DAY = 86_400_000;
const BATCH_LEASE_MS = 10_000;

/** Campaigns: the manager's API and pages, the fan-out and send jobs, delivery reports. */
export const campaignsModule: SafelineModule = {
  name: 'campaigns',
  routers: (infra) => campaignApiRouters(infra),
  fastRoutes: (infra) => deliveryReportCallbacks(infra),
  startWorkers(infra) {
    const deps = campaignDepsOf(infra);
    const { management } = deps;
    const fanOutDeps = {
      ...deps,
      logger: infra.logger,
      finishRunIfDone: (id: string, run: string) => management.finishRunIfDone(id, run),
      markRunning: async (id: string) => {
        await deps.withLock(`campaign:${id}`, async () => {
          const campaign = await deps.campaigns.get(id);
          if (campaign?.status === 'scheduled') await management.setStatus(campaign, 'running');
        });
      },
    };
    const redis = infra.redis.client;
    // Renewed while its job works (every third of its life), so slow writes after a send never let a
    // second job take the batch for a dead one's; it lapses 10 s after a worker dies, as the job's Bull lock does.
    const claimBatch = (batchId: string) => takeLease(redis, `${infra.config.queuePrefix}:campaign-batch-lease:${batchId}`, BATCH_LEASE_MS);
    const takeTurn = createSendTurns(redis, infra.config.queuePrefix, infra.config.sms.maxPerSecond);
    const sendDeps = {
      ...deps,
      campaigns: recentCampaigns(deps.campaigns, 1_000),
      claimBatch,
      takeTurn,
      gateway: smsRoutingOf(infra).any,
      logger: infra.logger,
      stopCampaign: (id: string, reason: string) => management.stopCampaign(id, reason),
      finishRunIfDone: (id: string, run: string) => management.finishRunIfDone(id, run),
    };

    void deps.queue.process(
      FAN_OUT,
      1,
      processWith(async (job) => {
        const data = job.data as FanOutJob;
        if (data.runId) return fanOutCampaignRun(fanOutDeps, data);
        // A recurring campaign's occurrence: a run of its own, named by its scheduled time (the
        // repeat job's id ends with it), so a re-run of the same occurrence is the same run.
        const scheduled = Number(String(job.id).split(':').pop());
        const at = Number.isFinite(scheduled) && scheduled > 0 ? new Date(scheduled) : deps.now();
        const runId = `${data.campaignId}@${at.toISOString().slice(0, 16)}`;
        // A paused recurring campaign skips its occurrences: resuming must not send them all at once.
        // Under the campaign's lock, so a pause lands either before the run exists or after (then its batches wait).
        const skipped = await deps.withLock(`campaign:${data.campaignId}`, async () => {
          const campaign = await deps.campaigns.get(data.campaignId);
          if (campaign?.status !== 'scheduled' && campaign?.status !== 'running') return campaign?.status ?? 'gone';
          await deps.campaigns.addRun(data.campaignId, runId);
          return null;
        });
        if (skipped) {
          infra.logger.info(
            { campaign: data.campaignId, run: runId, status: skipped },
            'recurring campaign not running: occurrence skipped',
          );
          return;
        }
        // Its batches are planned from when it really starts (a late or early start shifts them all),
        // and a retry of this job is a plain fan-out of the same run from the same start.
        const run = { ...data, runId, startedAt: deps.now().toISOString() };
        await job.update(run);
        return fanOutCampaignRun(fanOutDeps, run);
      }),
    );
    void deps.queue.process(
      CHECK_RELATIVE,
      1,
      processWith(async (job) => {
        const campaign = await deps.campaigns.get(job.data.campaignId);
        if (!campaign || campaign.status !== 'running' || campaign.schedule.kind !== 'relative') return;
        const at = deps.now();
        const days = campaign.schedule.daysAfterJoin * DAY;
        const runId = firstRunOf(campaign._id);
        await deps.progress.reopenFanOut(runId);
        // Who joined since the campaign was scheduled, and N days ago or earlier; existing subscribers are not messaged backwards.
        await fanOutCampaignRun(fanOutDeps, {
          campaignId: campaign._id,
          runId,
          startedAt: at.toISOString(),
          joinedBefore: new Date(at.getTime() - days).toISOString(),
          joinedAfter: new Date((campaign.scheduledAt ?? at).getTime() - days).toISOString(),
        });
      }),
    );
    void deps.queue.process(
      SEND_BATCH,
      4,
      processWith(async (job) => {
        try {
          await sendCampaignBatch(sendDeps, job.data as SendBatchJob);
        } catch (err) {
          if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw err;
          // Out of quick retries (a long gateway outage): try the batch again in 5 minutes rather
          // than leave it queued with no job.
          infra.logger.warn({ err, batch: (job.data as SendBatchJob).batchId }, 'batch still failing; trying again in 5 minutes');
          await deps.queue.add(SEND_BATCH, job.data, {
            ...SEND_JOB_OPTIONS,
            jobId: `${(job.data as SendBatchJob).batchId}@later${Date.now()}`,
            delay: 300_000,
          });
        }
      }),
    );

    void deps.queue.process(ARCHIVE_RUN, 1, processWith(async (job) => {
      const { campaignId, runId } = job.data as ArchiveRunJob;
      await deps.withLock(`campaign:${campaignId}`, () => management.archiveRun(campaignId, runId));
    }));

    void deps.progress.expireLegacyMap().catch(() => undefined);
    void deps.optouts
      .warm()
      .catch((err: unknown) => infra.logger.warn({ err }, 'opt-out set not filled at start; the first batch will fill it'));
    const reports = startDeliveryReportApplier({
      redis: infra.redis.client,
      prefix: infra.config.queuePrefix,
      messages: deps.messages,
      progress: deps.progress,
      logger: infra.logger,
      now: deps.now,
      unknownAfterMs: infra.config.sms.unknownReportAfterMs,
    });
    infra.onStop(() => reports.stop());
  },
};
