import { resolve } from 'node:path';
import { processWith } from '../platform/queues';
import type { Infrastructure, SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { staffSurfaceOf } from '../staff/staff-surface';
import { loadTexts } from '../texts/texts';
import { importSubscribers } from './import-subscribers';
import { createOptOutSet } from './optout-set';
import { IMPORT_QUEUE, createSubscriberImports, type ImportJob } from './subscriber-imports';
import { subscriberRoutes } from './subscriber-routes';
import { createSubscriberStore } from './subscriber-store';

const importsOf = (infra: Infrastructure) => createSubscriberImports(infra.redis.client, infra.config.queuePrefix, infra.queues.create<ImportJob>(IMPORT_QUEUE));

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
      now: () => new Date(),
    };
    void infra.queues.create<ImportJob>(IMPORT_QUEUE).process(1, processWith(async (job) => {
      const { importId } = job.data;
      const csv = await imports.file(importId);
      if (csv === null) return imports.save(importId, { state: 'failed', done: 0, total: 0, report: null, error: 'The file expired before the import ran' });
      let last = 0;
      const report = await importSubscribers(deps, csv, async (done, total) => {
        if (Date.now() - last < 250 && done < total) return;
        last = Date.now();
        await imports.save(importId, { state: 'running', done, total, report: null, error: null });
        await job.progress(Math.round((done / Math.max(total, 1)) * 100));
      });
      await imports.save(importId, { state: 'done', done: report.rows, total: report.rows, report, error: null });
      await imports.dropFile(importId);
      infra.logger.info({ importId, rows: report.rows, imported: report.imported, rejected: report.rejected.length }, 'subscriber import done');
    }));
  },
};
