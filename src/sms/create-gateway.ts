import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { createEmulatorGateway } from './emulator-gateway';
import type { SmsGateway } from './sms-gateway';

/** The gateway SMS_GATEWAY names; one per process. */
const built = new WeakMap<Infrastructure, SmsGateway>();
export function smsGatewayOf(infra: Infrastructure): SmsGateway {
  const existing = built.get(infra);
  if (existing) return existing;
  const { smsGateway } = infra.config;
  if (smsGateway.kind !== 'emulator') throw new Error(`SMS gateway "${smsGateway.kind}" is not available yet`);
  const gateway = createEmulatorGateway(infra.mongo.connection, createPhoneProtection(infra.config.secrets));
  built.set(infra, gateway);
  return gateway;
}
