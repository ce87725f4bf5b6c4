import { createKannelGateway } from '../gateway/kannel-gateway';
import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { createAfricasTalkingGateway } from './africastalking-gateway';
import { createEmulatorGateway } from './emulator-gateway';
import type { SmsGateway } from './sms-gateway';

/** The gateway SMS_GATEWAY names; one per process. */
const built = new WeakMap<Infrastructure, SmsGateway>();
export function smsGatewayOf(infra: Infrastructure): SmsGateway {
  const existing = built.get(infra);
  if (existing) return existing;
  const { smsGateway, sms } = infra.config;
  const gateway =
    smsGateway.kind === 'kannel'
      ? createKannelGateway({
          sendsmsUrl: smsGateway.sendsmsUrl,
          username: smsGateway.username,
          password: smsGateway.password,
          smsc: smsGateway.smsc,
          timeoutMs: sms.sendTimeoutMs,
          pricePerPart: sms.pricePerPart,
          ...(sms.senderId ? { defaultFrom: sms.senderId } : {}),
          reportUrl: () => {
            const base = smsGateway.callbackBaseUrl ?? infra.ownUrl();
            return base ? `${base.replace(/\/$/, '')}/sms/kannel/delivery?token=${encodeURIComponent(sms.callbackToken)}` : undefined;
          },
        })
      : smsGateway.kind === 'africastalking'
      ? createAfricasTalkingGateway({
          username: smsGateway.username,
          apiKey: smsGateway.apiKey,
          ...(smsGateway.baseUrl ? { baseUrl: smsGateway.baseUrl } : {}),
          timeoutMs: sms.sendTimeoutMs,
          ...(sms.senderId ? { defaultFrom: sms.senderId } : {}),
        })
      : createEmulatorGateway(infra.mongo.connection, createPhoneProtection(infra.config.secrets), () => new Date(), {
          url: () => {
            const base = sms.emulator.reportUrl ?? infra.ownUrl();
            return base ? `${base.replace(/\/$/, '')}/sms/delivery?token=${encodeURIComponent(sms.callbackToken)}` : undefined;
          },
          delayMs: sms.emulator.reportDelayMs,
          failureRate: sms.emulator.failureRate,
        });
  built.set(infra, gateway);
  return gateway;
}
