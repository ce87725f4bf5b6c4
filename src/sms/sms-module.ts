import { resolve } from 'node:path';
import { createHotlineIntake } from '../hotline/hotline-intake';
import { referenceCodesOf, type ReferenceCodesFactory } from '../hotline/reference-codes-of';
import { createCallbackGuard } from '../platform/callback-guard';
import { callbackRedis } from '../platform/callback-redis';
import type { SafelineModule } from '../safeline';
import { routesUse } from '../config/sms-routes';
import { createPhoneProtection } from '../shared/phone-protection';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { loadTexts } from '../texts/texts';
import { smsCallbackRoutes } from './sms-callback-routes';
import { loadKeywords } from '../texts/sms-keywords';
import { queueSms } from '../gateway/sms-queue';
import { createCampaignStore } from '../campaigns/campaign-store';
import { createPollReplies } from '../campaigns/poll-replies';
import { createPollSends } from '../campaigns/poll-sends';
import { recentCampaigns } from '../campaigns/recent-campaigns';
import { createResultsStore } from '../results/results-store';

/** Incoming SMS: the gateways' callbacks for messages from residents (keywords: STOP, JOIN, AIDE...) and AT's opt-outs. */
export const createSmsModule = (codesOf: ReferenceCodesFactory = referenceCodesOf): SafelineModule => ({
  name: 'sms',
  routers(infra) {
    const { config } = infra;
    const now = () => new Date();
    const protection = createPhoneProtection(config.secrets);
    const subscribers = createSubscriberStore(infra.mongo.connection);
    const redis = callbackRedis(infra.redis);
    const optouts = createOptOutSet(redis, config.queuePrefix, () => subscribers.optedOut());
    const routes = smsCallbackRoutes({
      token: config.sms.callbackToken,
      guard: createCallbackGuard({ config, redis, registry: infra.metrics.registry }),
      // Queued replies and hotline events go through connections that wait for Redis: check it first.
      redisUp: () => redis.status === 'ready',
      maxPerPhonePerMinute: config.callbacks.smsMaxPerPhonePerMinute,
      inbound: {
        match: loadKeywords(resolve(config.ussd.templatesDir)),
        subscribers,
        optouts,
        hotline: createHotlineIntake(infra, codesOf(infra)),
        newReference: () => codesOf(infra).fresh(),
        protection,
        routes: config.routes,
        queueSms: (jobId, job) => queueSms(infra.queues, jobId, job),
        // A poll's definition is read at most every 10 s per process, however many replies come in.
        polls: createPollReplies({
          sends: createPollSends(redis, config.queuePrefix),
          campaigns: recentCampaigns(createCampaignStore(infra.mongo.connection), 10_000),
          results: createResultsStore(infra.mongo.connection),
        }),
        texts: loadTexts(resolve(config.ussd.templatesDir)),
        now,
        logger: infra.logger,
      },
      subscribers,
      optouts,
      protection,
      now,
      logger: infra.logger,
      kannelInbound: routesUse(config.routes, 'kannel'),
    });
    return [routes];
  },
});

export const smsModule: SafelineModule = createSmsModule();
