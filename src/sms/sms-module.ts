import { processWith } from '../platform/queues';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { smsGatewayOf } from './create-gateway';
import { sendSingleSms } from './send-single-sms';
import { SMS_QUEUE, type SingleSmsJob } from './sms-queue';

/** Outgoing SMS: the worker hands queued messages to the configured gateway. */
export const smsModule: SafelineModule = {
  name: 'sms',
  startWorkers(infra) {
    const deps = { gateway: smsGatewayOf(infra), protection: createPhoneProtection(infra.config.secrets), logger: infra.logger };
    void infra.queues.create<SingleSmsJob>(SMS_QUEUE).process(4, processWith(async (job) => {
      await sendSingleSms(deps, job.data);
    }));
  },
};
