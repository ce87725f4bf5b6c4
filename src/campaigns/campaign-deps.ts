import type { Infrastructure } from '../safeline';
import { createLocks } from '../platform/redis-lock';
import { createPhoneProtection } from '../shared/phone-protection';
import { routeBindsOf, smsRoutingOf } from '../gateway/create-gateway';
import { queueSms } from '../gateway/sms-queue';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { createBatchCalls } from './batch-calls';
import { CAMPAIGN_QUEUE, type CampaignJob, type CampaignSettings } from './campaign-jobs';
import { createCampaignStore } from './campaign-store';
import { createCampaignManagement } from './manage-campaigns';
import { createMessageStore } from './message-store';
import { createPollSends } from './poll-sends';
import { createRunProgress } from './run-progress';

/** Everything the campaign room needs in one process, built once per process. */
const built = new WeakMap<Infrastructure, ReturnType<typeof build>>();
export function campaignDepsOf(infra: Infrastructure) {
  const existing = built.get(infra);
  if (existing) return existing;
  const deps = build(infra);
  built.set(infra, deps);
  return deps;
}

function build(infra: Infrastructure) {
  const { config } = infra;
  const redis = infra.redis.client;
  const prefix = config.queuePrefix;
  const now = () => new Date();
  const subscribers = createSubscriberStore(infra.mongo.connection);
  const campaigns = createCampaignStore(infra.mongo.connection, now);
  const messages = createMessageStore(infra.mongo.connection);
  const progress = createRunProgress(redis, prefix, { reportWindowMs: config.sms.reportWindowMs, now });
  const queue = infra.queues.create<CampaignJob>(CAMPAIGN_QUEUE);
  const withLock = createLocks(redis, prefix);
  const protection = createPhoneProtection(config.secrets);
  const optouts = createOptOutSet(redis, prefix, () => subscribers.optedOut());
  const settings: CampaignSettings = {
    batchSize: config.sms.batchSize,
    pricePerPart: config.sms.pricePerPart,
    maxPerSecond: config.sms.maxPerSecond,
    maxRetries: config.sms.maxRetries,
    retryDelayMs: config.sms.retryDelayMs,
    reportPeriodMs: config.sms.reportPeriodMs,
  };
  const calls = createBatchCalls(redis, prefix, config.sms.reportPeriodMs);
  const pollSends = createPollSends(redis, prefix);
  const management = createCampaignManagement({
    campaigns,
    messages,
    progress,
    queue,
    withLock,
    protection,
    settings,
    queueSms: (jobId, job) => queueSms(infra.queues, jobId, job),
    addRun: campaigns.addRun,
    now,
    logger: infra.logger,
  });
  const routes = config.routes;
  // Built on first use: the api role never sends a batch.
  const gatewayOf = (route: string) => smsRoutingOf(infra).gatewayOf(route);
  const binds = routeBindsOf(infra);
  return {
    subscribers, campaigns, messages, progress, calls, queue, withLock,
    protection, optouts, settings, routes, gatewayOf, binds, management, now, pollSends,
  };
}

export type CampaignDeps = ReturnType<typeof campaignDepsOf>;
