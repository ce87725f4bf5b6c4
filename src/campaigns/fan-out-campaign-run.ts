import type { SmsRoute } from '../config/sms-routes';
import { routeFor } from '../gateway/route-table';
import type { Logger } from '../platform/logger';
import type { PhoneProtection } from '../shared/phone-protection';
import type { TypedQueue } from '../platform/queues';
import { analyzeText, toAsciiSpelling } from '../shared/sms-encoding';
import type { AudiencePage, SubscriberStore } from '../subscribers/subscriber-store';
import { SEND_BATCH, SEND_JOB_OPTIONS, type CampaignJob, type CampaignSettings, type FanOutJob } from './campaign-jobs';
import type { Campaign, CampaignStore } from './campaign-store';
import type { BatchRecipient, CampaignBatch, MessageStore } from './message-store';
import type { RunProgressStore } from './run-progress';
import { advanceOpenTime } from './send-window';

export interface FanOutDeps {
  campaigns: CampaignStore;
  subscribers: SubscriberStore;
  messages: MessageStore;
  progress: RunProgressStore;
  queue: TypedQueue<CampaignJob>;
  settings: CampaignSettings;
  /** Where SMS leave, by number: a batch holds one route's recipients. */
  routes: readonly SmsRoute[];
  /** Opens the numbers of subscribers stored without their number block, when there is more than one route. */
  protection: Pick<PhoneProtection, 'decrypt'>;
  now(): Date;
  logger: Logger;
  /** A scheduled campaign's first run has begun. */
  markRunning(campaignId: string): Promise<void>;
  /** Marks the run (and a one-off campaign) completed once fan-out is done and no batch is pending. */
  finishRunIfDone(campaignId: string, runId: string): Promise<void>;
}

const PAGE = 1_000;

/** The text a language gets: as written, or in its ASCII spelling when the campaign chose it. */
export const textFor = (campaign: Pick<Campaign, 'texts' | 'asciiLanguages'>, language: string): string | undefined => {
  const text = campaign.texts[language];
  return text && campaign.asciiLanguages.includes(language) ? toAsciiSpelling(text) : text;
};

/** Writes a planned batch, its messages and its send job; every step is idempotent, so a recovered plan can be written again. */
async function writeBatch(deps: FanOutDeps, batch: CampaignBatch, delayMs: number): Promise<void> {
  const inserted = await deps.messages.insertBatch(batch);
  // Written before a crash: only a batch still waiting is pending (one already sent is not).
  const waiting = inserted > 0 || (await deps.messages.getBatch(batch._id))?.status === 'queued';
  if (waiting) await deps.progress.addPending(batch.run, batch._id);
  await deps.messages.insertMessages(
    batch.recipients.map((r) => ({
      _id: r.message,
      campaign: batch.campaign,
      run: batch.run,
      subscriber: r.subscriber,
      language: batch.language,
      batch: batch._id,
      createdAt: deps.now(),
    })),
  );
  await deps.progress.addOnce(batch.run, batch._id, { recipients: batch.recipients.length });
  if (waiting) {
    await deps.queue.add(
      SEND_BATCH,
      { campaignId: batch.campaign, batchId: batch._id },
      { ...SEND_JOB_OPTIONS, jobId: batch._id, delay: delayMs },
    );
  }
  await deps.progress.planDone(batch.run, batch._id);
}

/** Messages per second for this campaign: its own limit, its deadline, and the gateway's ceiling. */
export function sendRate(campaign: Pick<Campaign, 'spread'>, recipients: number, ceiling: number): number {
  const byDeadline = campaign.spread.finishWithinHours
    ? recipients / (campaign.spread.finishWithinHours * 3_600)
    : Number.POSITIVE_INFINITY;
  return Math.max(0.01, Math.min(campaign.spread.maxPerSecond ?? Number.POSITIVE_INFINITY, ceiling, Math.max(byDeadline, 0.01)));
}

/**
 * A subscriber's route: the only one, or its number block's; a record without a block (stored before
 * blocks were kept) has its number opened. Undefined when no route covers the number.
 */
function routeOf(deps: Pick<FanOutDeps, 'routes' | 'protection'>, subscriber: AudiencePage[number]): SmsRoute | undefined {
  if (deps.routes.length === 1) return deps.routes[0];
  return routeFor(deps.routes, subscriber.numberBlock || deps.protection.decrypt(subscriber.phoneSealed));
}

/**
 * Walks the audience and writes one message per recipient plus one batch per N recipients of the
 * same language and route, each batch planned at its time (the rate, inside the send window). A re-run
 * (crash, retry) walks the audience again from the start and leaves out whoever is already in a
 * batch of the run, so it writes nothing twice (messages and batches have ids derived from the run
 * and the subscribers).
 */
export async function fanOutCampaignRun(deps: FanOutDeps, job: FanOutJob): Promise<void> {
  const campaign = await deps.campaigns.get(job.campaignId);
  if (!campaign || campaign.status === 'cancelled' || campaign.status === 'completed') return;
  if (campaign.status === 'scheduled') await deps.markRunning(campaign._id);
  const started = new Date(job.startedAt);
  const audience = {
    ...campaign.audience,
    ...(job.joinedBefore ? { joinedTo: new Date(job.joinedBefore) } : {}),
    ...(job.joinedAfter ? { joinedFrom: new Date(job.joinedAfter) } : {}),
  };
  const languages = Object.keys(campaign.texts);
  const filter = {
    ...audience,
    languages: audience.languages?.length ? audience.languages.filter((l) => languages.includes(l)) : languages,
  };
  // Counting the audience costs a scan: only a deadline ("finish within H hours") needs it.
  const total = campaign.spread.finishWithinHours
    ? Object.values(await deps.subscribers.countAudience(filter)).reduce((sum, n) => sum + n, 0)
    : 0;
  const rate = sendRate(campaign, total, deps.settings.maxPerSecond);
  const interval = (deps.settings.batchSize / rate) * 1_000;
  // A route slower than the campaign spaces its own batches wider (booking holds it anyway; this keeps them from waiting).
  const routeInterval = new Map(
    deps.routes.map((route) => [route.name, (deps.settings.batchSize / Math.min(rate, route.maxPerSecond)) * 1_000]),
  );
  const routeAdded = new Map<string, number>();
  const parts = Object.fromEntries(languages.map((language) => [language, analyzeText(textFor(campaign, language) ?? '').parts]));
  let unrouted = 0;

  // Batches planned by a fan-out that died before writing them all.
  for (const plan of await deps.progress.plans(job.runId)) {
    const batch = JSON.parse(plan) as CampaignBatch;
    await writeBatch(deps, { ...batch, updatedAt: deps.now() }, 0);
  }
  let { recipients: planned, estimatedCostMilli } = await deps.progress.get(job.runId);
  // A relative campaign's check plans only its new joiners, from now.
  if (job.joinedBefore) planned = 0;
  let capped = false;
  for await (const walked of deps.subscribers.audience(filter, PAGE)) {
    // Leave out whoever is already in a batch of this run: a page read again after a crash (or a
    // relative campaign's next check) must not put anyone in a second batch, even if the page
    // changed meanwhile (an opt-out, a new subscriber) and the batches fall differently.
    const unseen = await deps.progress.unseen(job.runId, walked.map((s) => s._id));
    const page = walked.filter((_, i) => unseen[i]);
    const byLanguageAndRoute = new Map<string, { language: string; route: SmsRoute; recipients: BatchRecipient[] }>();
    for (const subscriber of page) {
      const route = routeOf(deps, subscriber);
      if (!route) {
        unrouted += 1;
        continue;
      }
      const cost = (parts[subscriber.language] ?? 0) * route.pricePerPart * 1_000;
      if (campaign.budgetCap !== null && estimatedCostMilli + cost > campaign.budgetCap * 1_000) {
        capped = true;
        break;
      }
      estimatedCostMilli += cost;
      const key = `${subscriber.language}\u0000${route.name}`;
      const group = byLanguageAndRoute.get(key) ?? { language: subscriber.language, route, recipients: [] };
      group.recipients.push({ message: `${job.runId}:${subscriber._id}`, subscriber: subscriber._id, sealed: subscriber.phoneSealed });
      byLanguageAndRoute.set(key, group);
    }
    let added = 0;
    for (const { language, route, recipients } of byLanguageAndRoute.values()) {
      for (let i = 0; i < recipients.length; i += deps.settings.batchSize) {
        let chunk = recipients.slice(i, i + deps.settings.batchSize);
        while (chunk.length > 0) {
          const batchId = `${job.runId}:${chunk[0]?.subscriber ?? ''}`;
          const onRoute = routeAdded.get(route.name) ?? 0;
          const offsetMs = Math.max(
            ((planned + added) / deps.settings.batchSize) * interval,
            (onRoute / deps.settings.batchSize) * (routeInterval.get(route.name) ?? interval),
          );
          const plannedAt = advanceOpenTime(campaign.sendWindow, started, offsetMs);
          const batch: CampaignBatch = {
            _id: batchId,
            campaign: campaign._id,
            run: job.runId,
            language,
            route: route.name,
            text: textFor(campaign, language) ?? '',
            recipients: chunk,
            status: 'queued',
            retry: 0,
            updatedAt: deps.now(),
          };
          // The plan first, in the same Redis step that marks its subscribers as batched: a crash
          // before the batch is fully written leaves the plan, which the next fan-out finishes.
          if (await deps.progress.planBatch(job.runId, batchId, chunk.map((r) => r.subscriber), JSON.stringify(batch))) {
            await writeBatch(deps, batch, Math.max(0, plannedAt.getTime() - deps.now().getTime()));
            added += chunk.length;
            routeAdded.set(route.name, onRoute + chunk.length);
            break;
          }
          // Another fan-out of this run (a stalled job run again) batched some of them meanwhile: plan the rest.
          const unseenNow = await deps.progress.unseen(job.runId, chunk.map((r) => r.subscriber));
          chunk = chunk.filter((_, k) => unseenNow[k]);
        }
      }
    }
    planned += added;
    await deps.progress.set(job.runId, 'estimatedCostMilli', Math.round(estimatedCostMilli));
    if (capped) break;
  }
  if (capped) {
    await deps.campaigns.update(campaign._id, { stoppedReason: `Budget cap reached: ${planned} recipients queued` });
    deps.logger.warn({ campaign: campaign._id, run: job.runId, recipients: planned }, 'campaign budget cap reached during fan-out');
  }
  // Stored before routes were checked at every opt-in: nothing could reach them, so they are not batched.
  if (unrouted > 0) {
    deps.logger.warn(
      { campaign: campaign._id, run: job.runId, recipients: unrouted },
      'campaign recipients left out: no SMS route covers their number',
    );
  }
  await deps.progress.set(job.runId, 'fanoutDone', 1);
  await deps.finishRunIfDone(campaign._id, job.runId);
  deps.logger.info({ campaign: campaign._id, run: job.runId, recipients: planned }, 'campaign fan-out done');
}
