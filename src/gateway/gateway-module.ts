import { processWith } from '../platform/queues';
import type { ReadinessCheck } from '../platform/health-routes';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { smsGatewayOf } from './create-gateway';
import { emulatorPages } from './emulator-pages';
import { kannelReadiness } from './kannel-readiness';
import { sendSingleSms } from './send-single-sms';
import { SMS_QUEUE, type SingleSmsJob } from './sms-queue';

/** The transports: queued single SMS sent on the worker, the emulator's page, and the gateway's part of /readyz. */
export const gatewayModule: SafelineModule = {
  name: 'gateway',
  routers: (infra) => (infra.config.smsGateway.kind === 'emulator' ? [emulatorPages(infra)] : []),
  readiness(infra): Record<string, ReadinessCheck> {
    const gateway = infra.config.smsGateway;
    if (gateway.kind !== 'kannel') return {};
    return { kannel: kannelReadiness({ adminUrl: gateway.adminUrl, password: gateway.adminPassword, smsc: gateway.smsc }) };
  },
  startWorkers(infra) {
    const deps = { gateway: smsGatewayOf(infra), protection: createPhoneProtection(infra.config.secrets), logger: infra.logger };
    void infra.queues.create<SingleSmsJob>(SMS_QUEUE).process(4, processWith(async (job) => {
      await sendSingleSms(deps, job.data);
    }));
  },
};
