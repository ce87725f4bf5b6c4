import { resolve } from 'node:path';
import { createSubscriberStore } from '../campaigns/subscriber-store';
import { createHotlineStore } from '../hotline/hotline-store';
import { processWith } from '../platform/queues';
import type { Infrastructure, SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { loadTexts } from '../texts/texts';
import { createFlowEventApplier, createFlowEventDispatcher, FLOW_EVENTS_QUEUE, type FlowEventJob } from './apply-flow-events';
import { createCallerProfiles } from './caller-profiles';
import { checkScreens } from './check-flows';
import type { ConversationDeps } from './conversation';
import { handleUssdRequest } from './handle-ussd-request';
import { FlowsInvalidError, loadFlows } from './load-flows';
import { createSessionEventsStore } from './session-events-store';
import { createRedisSessionStore } from './session-store';
import { ussdRoutes } from './ussd-routes';

const now = (): Date => new Date();

function applier(infra: Infrastructure) {
  const protection = createPhoneProtection(infra.config.secrets);
  const profiles = createCallerProfiles(infra.mongo.connection);
  return {
    protection,
    profiles,
    apply: createFlowEventApplier({ hotline: createHotlineStore(infra.mongo.connection), subscribers: createSubscriberStore(infra.mongo.connection), profiles }),
  };
}

/** Flows and texts are loaded and checked once at start: a broken flow stops the process. */
export function loadConversation(config: Infrastructure['config']): ConversationDeps {
  const { set, problems } = loadFlows(resolve(config.ussd.flowsDir), config.ussd.entryFlow);
  const texts = loadTexts(resolve(config.ussd.templatesDir));
  const all = [...problems, ...checkScreens(set, texts, config.ussd.limits, config.ussd.keys).problems];
  if (all.length) throw new FlowsInvalidError(all);
  return { flows: set, texts, limits: config.ussd.limits, keys: config.ussd.keys, maxWrongTries: config.ussd.maxWrongTries };
}

/** The residents' USSD channel: AT's callbacks on the api role, flow events applied on the worker role. */
export const ussdModule: SafelineModule = {
  name: 'ussd',
  routers(infra) {
    const { config, logger } = infra;
    const conversation = loadConversation(config);
    const { protection, profiles, apply } = applier(infra);
    const queue = infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE);
    const sessions = createRedisSessionStore(infra.redis.client, {
      prefix: config.queuePrefix,
      ttlSeconds: config.ussd.sessionTtlSeconds,
      resumeSeconds: config.ussd.resumeWindowSeconds,
    });
    const dispatchEvents = createFlowEventDispatcher(queue, apply, logger);
    const sessionEvents = createSessionEventsStore(infra.mongo.connection, protection, now);
    return [
      ussdRoutes({
        token: config.ussd.callbackToken,
        texts: conversation.texts,
        logger,
        hopTimeoutMs: 3_000,
        handle: (request) => handleUssdRequest({ conversation, sessions, profiles, protection, dispatchEvents, logger, now }, request),
        recordSessionEvent: (event) => sessionEvents.record(event),
      }),
    ];
  },
  startWorkers(infra) {
    const { apply } = applier(infra);
    void infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE).process(4, processWith((job) => apply(job.data)));
  },
};
