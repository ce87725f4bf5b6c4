import { Counter, type Registry } from 'prom-client';
import { routesUse } from '../config/sms-routes';
import { createCallbackGuard, type RateCounter } from '../platform/callback-guard';
import { callbackRedis } from '../platform/callback-redis';
import type { FastRoute, Infrastructure } from '../safeline';
import { toE164 } from '../shared/phone-number';
import { createPhoneProtection } from '../shared/phone-protection';
import { deliveryReportRoute, kannelDeliveryReportRoute } from './delivery-report-routes';
import { createDeliveryReportInbox, type ReceivedReport } from './delivery-reports';

/** Delivery reports refused, not kept: past a sender's rate limit, or past the bound on unknown messageIds. */
function droppedReports(registry: Registry): Counter<'reason'> {
  const name = 'safeline_delivery_reports_dropped_total';
  const help = 'Delivery reports refused and not kept (rate-limited sender, or an unknown messageId past the per-minute bound)';
  const existing = registry.getSingleMetric(name) as Counter<'reason'> | undefined;
  return existing ?? new Counter({ name, help, labelNames: ['reason'] as const, registers: [registry] });
}

/** The gateways' delivery-report callbacks (AT's POST, Kannel's dlr-url when it is the gateway), into one inbox. */
export function deliveryReportCallbacks(infra: Infrastructure): FastRoute[] {
  const { config } = infra;
  const redis = callbackRedis(infra.redis);
  const inbox = createDeliveryReportInbox(redis, config.queuePrefix, {
    maxUnknownPerMinute: config.sms.maxUnknownReportsPerMinute,
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
  return [deliveryReportRoute(deps), ...(routesUse(config.routes, 'kannel') ? [kannelDeliveryReportRoute(deps)] : [])];
}
