import { resolve } from 'node:path';
import { createDeliveryReportInbox } from '../campaigns/delivery-reports';
import { createHotlineIntake } from '../hotline/hotline-intake';
import { processWith } from '../platform/queues';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { loadTexts } from '../texts/texts';
import { smsGatewayOf } from './create-gateway';
import { emulatorPages } from './emulator-pages';
import { sendSingleSms } from './send-single-sms';
import { deliveryReportRoute, smsCallbackRoutes } from './sms-callback-routes';
import { loadKeywords } from './sms-keywords';
import { SMS_QUEUE, queueSms, type SingleSmsJob } from './sms-queue';

/** SMS both ways: AT's callbacks (incoming, delivery reports, opt-outs) on the api role; queued single SMS on the worker. */
export const smsModule: SafelineModule = {
  name: 'sms',
  routers(infra) {
    const { config } = infra;
    const now = () => new Date();
    const protection = createPhoneProtection(config.secrets);
    const subscribers = createSubscriberStore(infra.mongo.connection);
    const optouts = createOptOutSet(infra.redis.client, config.queuePrefix, () => subscribers.optedOut());
    const routes = smsCallbackRoutes({
      token: config.sms.callbackToken,
      inbound: {
        match: loadKeywords(resolve(config.ussd.templatesDir)),
        subscribers,
        optouts,
        hotline: createHotlineIntake(infra),
        protection,
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
    });
    return config.smsGateway.kind === 'emulator' ? [routes, emulatorPages(infra)] : [routes];
  },
  fastRoutes(infra) {
    const inbox = createDeliveryReportInbox(infra.redis.client, infra.config.queuePrefix);
    return [deliveryReportRoute({ token: infra.config.sms.callbackToken, accept: (report) => inbox.accept(report), now: () => new Date(), logger: infra.logger })];
  },
  startWorkers(infra) {
    const deps = { gateway: smsGatewayOf(infra), protection: createPhoneProtection(infra.config.secrets), logger: infra.logger };
    void infra.queues.create<SingleSmsJob>(SMS_QUEUE).process(4, processWith(async (job) => {
      await sendSingleSms(deps, job.data);
    }));
  },
};
