import type { SmsRoute } from '../config/sms-routes';
import { createKannelGateway } from './kannel-gateway';
import { kannelStatusReader, type KannelReading } from './kannel-readiness';
import { kannelRouteBinds, type RouteBinds } from './route-binds';
import { createSmsRouting, type SmsRouting } from './routed-gateway';
import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { createAfricasTalkingGateway } from './africastalking-gateway';
import { createEmulatorGateway } from './emulator-gateway';
import type { SmsGateway } from './sms-gateway';

/** The gateways of the routes (SMS_ROUTES_FILE, or the one route SMS_GATEWAY describes); one set per process. */
const built = new WeakMap<Infrastructure, SmsRouting>();
export function smsRoutingOf(infra: Infrastructure): SmsRouting {
  const existing = built.get(infra);
  if (existing) return existing;
  const { sms, gatewayAccounts, smsGateway } = infra.config;
  let emulator: SmsGateway | undefined;
  const emulatorGateway = (): SmsGateway =>
    (emulator ??= createEmulatorGateway(infra.mongo.connection, createPhoneProtection(infra.config.secrets), () => new Date(), {
      url: () => {
        const base = sms.emulator.reportUrl ?? infra.ownUrl();
        return base ? `${base.replace(/\/$/, '')}/sms/delivery?token=${encodeURIComponent(sms.callbackToken)}` : undefined;
      },
      delayMs: sms.emulator.reportDelayMs,
      failureRate: sms.emulator.failureRate,
    }));
  // Without a routes file the accounts are SMS_GATEWAY's (config checked they are there).
  const kannel = gatewayAccounts.kannel ?? (smsGateway.kind === 'kannel' ? smsGateway : undefined);
  const at = gatewayAccounts.africastalking ?? (smsGateway.kind === 'africastalking' ? smsGateway : undefined);
  const build = (route: SmsRoute): SmsGateway => {
    const from = route.senderId ?? sms.senderId;
    if (route.gateway === 'kannel' && kannel) {
      return createKannelGateway({
        sendsmsUrl: kannel.sendsmsUrl,
        username: kannel.username,
        password: kannel.password,
        smsc: route.smsc ?? '',
        timeoutMs: sms.sendTimeoutMs,
        pricePerPart: route.pricePerPart,
        ...(from ? { defaultFrom: from } : {}),
        reportUrl: () => {
          const base = kannel.callbackBaseUrl ?? infra.ownUrl();
          return base ? `${base.replace(/\/$/, '')}/sms/kannel/delivery?token=${encodeURIComponent(sms.callbackToken)}` : undefined;
        },
      });
    }
    if (route.gateway === 'africastalking' && at) {
      return createAfricasTalkingGateway({
        username: at.username,
        apiKey: at.apiKey,
        ...(at.baseUrl ? { baseUrl: at.baseUrl } : {}),
        timeoutMs: sms.sendTimeoutMs,
        ...(from ? { defaultFrom: from } : {}),
      });
    }
    const shared = emulatorGateway();
    // The emulator has no account default: a route's own sender ID is put on what it sends.
    return route.senderId && route.senderId !== sms.senderId
      ? { name: shared.name, send: (batch) => shared.send({ ...batch, from: batch.from ?? route.senderId }) }
      : shared;
  };
  const routing = createSmsRouting(infra.config.routes, build);
  built.set(infra, routing);
  return routing;
}

/** One gateway for any number: each goes over its route's (with one route, that route's gateway). */
export const smsGatewayOf = (infra: Infrastructure): SmsGateway => smsRoutingOf(infra).any;

/** Kannel's status.txt, read at most every few seconds per process (undefined without a Kannel account). */
const statusReaders = new WeakMap<Infrastructure, () => Promise<KannelReading>>();
export function kannelStatusOf(infra: Infrastructure): (() => Promise<KannelReading>) | undefined {
  const account = infra.config.gatewayAccounts.kannel;
  if (!account) return undefined;
  const existing = statusReaders.get(infra);
  if (existing) return existing;
  const read = kannelStatusReader({ adminUrl: account.adminUrl, password: account.adminPassword });
  statusReaders.set(infra, read);
  return read;
}

/** Whether each route's bind is up, from the same reading /readyz uses. */
export const routeBindsOf = (infra: Infrastructure): RouteBinds => kannelRouteBinds(kannelStatusOf(infra));
