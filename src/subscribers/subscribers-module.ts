import { resolve } from 'node:path';
import { processWith } from '../platform/queues';
import type { Infrastructure, SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { staffSurfaceOf } from '../staff/staff-surface';
import { loadTexts } from '../texts/texts';
import { createOptOutSet } from './optout-set';
import { IMPORT_QUEUE, createSubscriberImports, type ImportJob } from './subscriber-imports';
import { runImportJob } from './run-import-job';
import { subscriberRoutes } from './subscriber-routes';
import { createSubscriberStore } from './subscriber-store';

const importsOf = (infra: Infrastructure) =>
  createSubscriberImports(
    infra.redis.client,
    infra.config.queuePrefix,
    infra.queues.create<ImportJob>(IMPORT_QUEUE),
    createPhoneProtection(infra.config.secrets),
  );

/** Subscribers and consent: counts and imports for managers; the import job on the worker. */
export const subscribersModule: SafelineModule = {
  name: 'subscribers',
  routers(infra) {
    const { api, shell } = staffSurfaceOf(infra);
    return [subscriberRoutes({ api, shell, subscribers: createSubscriberStore(infra.mongo.connection), imports: importsOf(infra) })];
  },
  startWorkers(infra) {
    const imports = importsOf(infra);
    const subscribers = createSubscriberStore(infra.mongo.connection);
    const deps = {
      subscribers,
      optouts: createOptOutSet(infra.redis.client, infra.config.queuePrefix, () => subscribers.optedOut()),
      protection: createPhoneProtection(infra.config.secrets),
      languages: loadTexts(resolve(infra.config.ussd.templatesDir)).languages.map((language) => language.code),
      routes: infra.config.routes,
      now: () => new Date(),
    };
    const audit = staffSurfaceOf(infra).audit;
    void infra.queues.create<ImportJob>(IMPORT_QUEUE).process(1, processWith((job) =>
      runImportJob({ ...deps, imports, audit, logger: infra.logger }, job.data, async (percent) => void (await job.progress(percent)))));
  },
};
