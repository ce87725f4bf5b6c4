import { resolve } from 'node:path';
import { coveredBlock } from '../gateway/route-table';
import type Redis from 'ioredis';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { createHotlineIntake } from '../hotline/hotline-intake';
import { referenceCodesOf, type ReferenceCodesFactory } from '../hotline/reference-codes-of';
import { createCallbackGuard } from '../platform/callback-guard';
import { processWith } from '../platform/queues';
import { resultsDepsOf } from '../results/results-deps';
import type { Infrastructure, SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { loadTexts } from '../texts/texts';
import { applyDirectly, createFlowEventApplier, FLOW_EVENTS_QUEUE, type FlowEventJob } from './apply-flow-events';
import { startOutboxRelay } from './outbox-relay';
import { createCallerProfiles } from './caller-profiles';
import { channelLimitsOf, checkChannels } from './check-flows';
import { kannelUssdRoute, KANNEL_USSD_PATH, type KannelUssdRouteDeps } from './channels/kannel-route';
import { createTrails, handleKannelUssd } from './channels/kannel-smpp';
import { createConversationDeps, type ConversationDeps } from './conversation';
import { handleUssdRequest } from './channels/africastalking';
import type { HandleUssdDeps } from './handle-hop';
import { FlowsInvalidError, loadFlows } from './load-flows';
import { createSessionEventsStore } from './session-events-store';
import { createRedisSessionStore, type SessionStore } from './session-store';
import { ussdHopRoute, ussdRoutes, type UssdRouteDeps } from './ussd-routes';
import { MAINTENANCE_QUEUE, WARM_LANGUAGE_CACHE, warmLanguageCache } from './warm-language-cache';

const now = (): Date => new Date();

const sessionStore = (infra: Infrastructure, connection: Redis) =>
  createRedisSessionStore(connection, {
    prefix: infra.config.queuePrefix,
    ttlSeconds: infra.config.ussd.sessionTtlSeconds,
    resumeSeconds: infra.config.ussd.resumeWindowSeconds,
  });

function applier(infra: Infrastructure, sessions: SessionStore, codesOf: ReferenceCodesFactory) {
  const subscribers = createSubscriberStore(infra.mongo.connection);
  const protection = createPhoneProtection(infra.config.secrets);
  const profiles = createCallerProfiles(infra.mongo.connection);
  return {
    protection,
    profiles,
    apply: createFlowEventApplier({
      hotline: createHotlineIntake(infra, codesOf(infra)),
      subscribers,
      optouts: createOptOutSet(infra.redis.client, infra.config.queuePrefix, () => subscribers.optedOut()),
      profiles,
      // Answers and profiles, with the results pages' counts kept in step.
      ...resultsDepsOf(infra).counted,
      cacheProfile: (phoneHash, profile) => sessions.cacheProfile(phoneHash, profile),
      blockOf: (phoneSealed) => coveredBlock(infra.config.routes, protection.decrypt(phoneSealed)),
      logger: infra.logger,
    }),
  };
}

/** One conversation per channel: the same flows and texts, rendered and paged to each channel's screen limits. */
export interface ChannelConversations {
  readonly africastalking: ConversationDeps;
  readonly kannel: ConversationDeps;
}

/** Flows and texts are loaded and checked once at start, for every channel: a broken flow stops the process. */
export function loadConversations(config: Infrastructure['config']): ChannelConversations {
  const { ussd } = config;
  const { set, problems } = loadFlows(resolve(ussd.flowsDir), ussd.entryFlow);
  const texts = loadTexts(resolve(ussd.templatesDir));
  const all = [...problems, ...checkChannels(set, texts, channelLimitsOf(ussd), ussd.keys).problems];
  if (all.length) throw new FlowsInvalidError(all);
  const common = { flows: set, texts, keys: ussd.keys, maxWrongTries: ussd.maxWrongTries };
  return {
    africastalking: createConversationDeps({ ...common, limits: ussd.limits }),
    kannel: createConversationDeps({ ...common, limits: ussd.kannel.limits }),
  };
}

/** What the USSD routes need, built once per process (both the fast route and the router use it). */
interface RouteDeps {
  readonly africastalking: UssdRouteDeps;
  readonly kannel: KannelUssdRouteDeps;
  /** The hop handler's dependencies on each channel (the console's phone runs the same hops, marked test). */
  readonly hops: ChannelHopDeps;
}

export interface ChannelHopDeps {
  readonly africastalking: HandleUssdDeps;
  readonly kannel: HandleUssdDeps;
}
const built = new WeakMap<Infrastructure, RouteDeps>();
function routeDeps(infra: Infrastructure, codesOf: ReferenceCodesFactory): RouteDeps {
  const existing = built.get(infra);
  if (existing) return existing;
  const { config, logger } = infra;
  const conversations = loadConversations(config);
  const conversation = conversations.africastalking;
  // Fail fast rather than queue while Redis is away (the hop then replays), and batch concurrent hops.
  const sessions = sessionStore(
    infra,
    infra.redis.open('ussd-sessions', { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
  );
  const { protection, profiles, apply } = applier(infra, sessions, codesOf);
  const sessionEvents = createSessionEventsStore(infra.mongo.connection, protection, now);
  const guard = createCallbackGuard({ config, redis: infra.redis.client, registry: infra.metrics.registry });
  const perPhone = config.callbacks.ussdMaxHopsPerPhonePerMinute;
  const hopDeps = {
    conversation,
    sessions,
    profiles,
    protection,
    applyDirectly: (jobs: readonly FlowEventJob[]) => applyDirectly(jobs, apply, logger),
    referenceCodes: codesOf(infra),
    logger,
    now,
    counters: (phoneHash: string, source: string) => guard.counters('ussd', source, { hash: phoneHash, max: perPhone }),
    refused: (reason: Parameters<typeof guard.refused>[1]) => guard.refused('/ussd', reason),
  };
  const africastalking: UssdRouteDeps = {
    token: config.ussd.callbackToken,
    texts: conversation.texts,
    logger,
    guard,
    hopTimeoutMs: 3_000,
    handle: (request, source) => handleUssdRequest(hopDeps, request, source),
    recordSessionEvent: (event) => sessionEvents.record(event),
    eventCounters: (phoneNumber, source) => guard.counters('ussd-events', source, { hash: protection.hash(phoneNumber), max: perPhone }),
  };
  // The same hop handler and stores, the channel's own rendering, and its refusals counted under its route.
  const kannelHop = {
    hop: {
      ...hopDeps,
      conversation: conversations.kannel,
      refused: (reason: Parameters<typeof guard.refused>[1]) => guard.refused(KANNEL_USSD_PATH, reason),
    },
    trails: createTrails({ maxEntries: 20_000, ttlMs: config.ussd.sessionTtlSeconds * 1_000 }),
  };
  const kannel: KannelUssdRouteDeps = {
    token: config.ussd.callbackToken,
    texts: conversation.texts,
    logger,
    guard,
    smscIds: config.ussd.kannel.smscIds,
    hopTimeoutMs: config.ussd.kannel.hopTimeoutMs,
    handle: (request, source) => handleKannelUssd(kannelHop, request, source),
  };
  const deps = { africastalking, kannel, hops: { africastalking: hopDeps, kannel: kannelHop.hop } };
  built.set(infra, deps);
  return deps;
}

/** The hop handler's dependencies as this process's USSD channels use them (built once, with the routes). */
export const channelHopDeps = (infra: Infrastructure): ChannelHopDeps => routeDeps(infra, referenceCodesOf).hops;

/** The residents' USSD channels: AT's callbacks and Kannel's get-url on the api role, flow events applied on the worker role. */
export const createUssdModule = (codesOf: ReferenceCodesFactory = referenceCodesOf): SafelineModule => ({
  name: 'ussd',
  routers: (infra) => [ussdRoutes(routeDeps(infra, codesOf).africastalking)],
  fastRoutes: (infra) => {
    const deps = routeDeps(infra, codesOf);
    // The SMPP channel is served once an operator's USSD bind is named (USSD_KANNEL_SMSC_IDS).
    return [ussdHopRoute(deps.africastalking), ...(deps.kannel.smscIds.length ? [kannelUssdRoute(deps.kannel)] : [])];
  },
  startWorkers(infra) {
    const sessions = sessionStore(infra, infra.redis.client);
    const { apply, profiles } = applier(infra, sessions, codesOf);
    const events = infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE);
    // Most of a job is waiting on MongoDB and Redis: 16 at a time keeps the worker's one core busy.
    // Nothing is returned into the finished job (a report's code stays out of Redis).
    void events.process(16, processWith(async (job) => void (await apply(job.data))));
    const relay = startOutboxRelay(infra.redis.client, sessions.outboxKey, events, infra.logger);
    infra.onStop(() => relay.stop());

    const maintenance = infra.queues.create<{ task: string }>(MAINTENANCE_QUEUE);
    void maintenance.process(WARM_LANGUAGE_CACHE, 1, () => warmLanguageCache(profiles, sessions, infra.logger));
    // Now, and every five minutes (a no-op while the cache is complete).
    void maintenance
      .add(
        WARM_LANGUAGE_CACHE,
        { task: WARM_LANGUAGE_CACHE },
        { jobId: `${WARM_LANGUAGE_CACHE}:start`, removeOnComplete: true, removeOnFail: true },
      )
      .catch(() => undefined);
    void maintenance
      .add(
        WARM_LANGUAGE_CACHE,
        { task: WARM_LANGUAGE_CACHE },
        { repeat: { every: 5 * 60_000 }, removeOnComplete: true, removeOnFail: true },
      )
      .catch(() => undefined);
  },
});

export const ussdModule: SafelineModule = createUssdModule();
