import { routesUse } from '../config/sms-routes';
import { processWith } from '../platform/queues';
import type { ReadinessCheck } from '../platform/health-routes';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { kannelStatusOf, smsGatewayOf } from './create-gateway';
import { emulatorPages } from './emulator-pages';
import { kannelReadiness } from './kannel-readiness';
import { sendSingleSms } from './send-single-sms';
import { SMS_QUEUE, type SingleSmsJob } from './sms-queue';

/** The transports: queued single SMS sent on the worker, the emulator's page, and the gateway's part of /readyz. */
export const gatewayModule: SafelineModule = {
  name: 'gateway',
  routers: (infra) => (routesUse(infra.config.routes, 'emulator') ? [emulatorPages(infra)] : []),
  readiness(infra): Record<string, ReadinessCheck> {
    const read = kannelStatusOf(infra);
    const smscs = infra.config.routes.flatMap((route) => (route.gateway === 'kannel' && route.smsc ? [route.smsc] : []));
    if (!read || smscs.length === 0) return {};
    return { kannel: kannelReadiness(read, smscs) };
  },
  startWorkers(infra) {
    const deps = { gateway: smsGatewayOf(infra), protection: createPhoneProtection(infra.config.secrets), logger: infra.logger };
    void infra.queues.create<SingleSmsJob>(SMS_QUEUE).process(4, processWith(async (job) => {
      await sendSingleSms(deps, job.data);
    }));
  },
};
