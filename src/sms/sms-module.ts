import { resolve } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import { createDeliveryReportInbox, type ReceivedReport } from '../campaigns/delivery-reports';
import { kannelReadiness } from '../gateway/kannel-readiness';
import { createHotlineIntake } from '../hotline/hotline-intake';
import { referenceCodesOf, type ReferenceCodesFactory } from '../hotline/reference-codes-of';
import { createCallbackGuard, type RateCounter } from '../platform/callback-guard';
import type { ReadinessCheck } from '../platform/health-routes';
import { processWith } from '../platform/queues';
import type Redis from 'ioredis';
import type { Infrastructure, SafelineModule } from '../safeline';
import type { SmsRoute } from '../config/sms-routes';
import { createPhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { loadTexts } from '../texts/texts';
import { smsGatewayOf } from './create-gateway';
import { emulatorPages } from './emulator-pages';
import { sendSingleSms } from './send-single-sms';
import { deliveryReportRoute, kannelDeliveryReportRoute, smsCallbackRoutes } from './sms-callback-routes';
import { loadKeywords } from './sms-keywords';
import { SMS_QUEUE, queueSms, type SingleSmsJob } from './sms-queue';

/** Whether any route sends over this kind of gateway (its callbacks and pages are mounted then). */
const usesGateway = (config: Infrastructure['config'], kind: SmsRoute['gateway']): boolean => config.routes.some((route) => route.gateway === kind);

/** Delivery reports refused, not kept: past a sender's rate limit, or past the bound on unknown messageIds. */
function droppedReports(registry: Registry): Counter<'reason'> {
  const name = 'safeline_delivery_reports_dropped_total';
  const help = 'Delivery reports refused and not kept (rate-limited sender, or an unknown messageId past the per-minute bound)';
  const existing = registry.getSingleMetric(name) as Counter<'reason'> | undefined;
  return existing ?? new Counter({ name, help, labelNames: ['reason'] as const, registers: [registry] });
}

/** A callback that needs Redis gets its answer from Redis within this, or 503 (AT sends it again later). */
const CALLBACK_REDIS_TIMEOUT_MS = 500;
const callbackConnections = new WeakMap<Infrastructure, Redis>();
/**
 * The callbacks' own Redis connection, one per process: it refuses commands at once while Redis is
 * away (the shared client queues them until it is back, so a callback would hang until the gateway
 * gives up) and gives up on a command Redis does not answer in time (a link that drops silently).
 */
function callbackRedis(infra: Infrastructure): Redis {
  const existing = callbackConnections.get(infra);
  if (existing) return existing;
  const redis = infra.redis.open('sms-callbacks', { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: CALLBACK_REDIS_TIMEOUT_MS });
  callbackConnections.set(infra, redis);
  return redis;
}

/** SMS both ways: AT's callbacks (incoming, delivery reports, opt-outs) on the api role; queued single SMS on the worker. */
export const createSmsModule = (codesOf: ReferenceCodesFactory = referenceCodesOf): SafelineModule => ({
  name: 'sms',
  routers(infra) {
    const { config } = infra;
    const now = () => new Date();
    const protection = createPhoneProtection(config.secrets);
    const subscribers = createSubscriberStore(infra.mongo.connection);
    const redis = callbackRedis(infra);
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
        texts: loadTexts(resolve(config.ussd.templatesDir)),
        now,
        logger: infra.logger,
      },
      subscribers,
      optouts,
      protection,
      now,
      logger: infra.logger,
      kannelInbound: usesGateway(config, 'kannel'),
    });
    return usesGateway(config, 'emulator') ? [routes, emulatorPages(infra)] : [routes];
  },
  fastRoutes(infra) {
    const { config } = infra;
    const maxUnknownPerMinute = config.sms.maxUnknownReportsPerMinute;
    const redis = callbackRedis(infra);
    const inbox = createDeliveryReportInbox(redis, config.queuePrefix, {
      maxUnknownPerMinute,
      reportWindowMs: config.sms.reportWindowMs,
      now: () => new Date(),
    });
    const dropped = droppedReports(infra.metrics.registry);
    const protection = createPhoneProtection(config.secrets);
    // AT sends E.164 numbers: parsed (slower) only when a number comes in another shape.
    const phoneHash = (raw: string): string | undefined => {
      const e164 = /^\+\d{8,15}$/.test(raw) ? raw : toE164(raw);
      return e164 ? protection.hash(e164) : undefined;
    };
    const deps = {
      token: config.sms.callbackToken,
      guard: createCallbackGuard({ config, redis, registry: infra.metrics.registry }),
      accept: (report: ReceivedReport, counters: readonly RateCounter[]) => inbox.accept(report, counters),
      phoneHash,
      dropped: (reason: 'rate-limited' | 'unknown-bound') => dropped.inc({ reason }),
      now: () => new Date(),
      logger: infra.logger,
    };
    return [deliveryReportRoute(deps), ...(usesGateway(config, 'kannel') ? [kannelDeliveryReportRoute(deps)] : [])];
  },
  readiness(infra): Record<string, ReadinessCheck> {
    const account = infra.config.gatewayAccounts.kannel;
    const smscs = infra.config.routes.flatMap((route) => (route.gateway === 'kannel' && route.smsc ? [route.smsc] : []));
    if (!account || smscs.length === 0) return {};
    return { kannel: kannelReadiness({ adminUrl: account.adminUrl, password: account.adminPassword, smscs }) };
  },
  startWorkers(infra) {
    const deps = { gateway: smsGatewayOf(infra), protection: createPhoneProtection(infra.config.secrets), logger: infra.logger };
    void infra.queues.create<SingleSmsJob>(SMS_QUEUE).process(4, processWith(async (job) => {
      await sendSingleSms(deps, job.data);
    }));
  },
});

export const smsModule: SafelineModule = createSmsModule();
