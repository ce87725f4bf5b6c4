import { resolve } from 'node:path';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { staffSurfaceOf } from '../staff/staff-surface';
import { loadTexts } from '../texts/texts';
import { createDutyRota } from './duty-rota';
import { hotlineAdminPages } from './hotline-admin-pages';
import { registerHotlineApi, type HotlineApiDeps } from './hotline-api';
import { hotlinePages } from './hotline-pages';
import { createHotlineStore } from './hotline-store';
import { HOTLINE_MAINTENANCE_QUEUE, PURGE_CLOSED_REQUESTS, purgeClosedRequests } from './purge-closed-requests';
import { createLocks } from '../platform/redis-lock';
import { createCallbackWork } from './work-callback-request';

const now = (): Date => new Date();

/** The hotline: agents' queue (API and console), figures, the duty rota, and the retention purge. */
export const hotlineModule: SafelineModule = {
  name: 'hotline',
  routers(infra) {
    const { api, shell, audit } = staffSurfaceOf(infra);
    const store = createHotlineStore(infra.mongo.connection);
    const protection = createPhoneProtection(infra.config.secrets);
    const withLock = createLocks(infra.redis.client, infra.config.queuePrefix);
    const deps: HotlineApiDeps = {
      store,
      rota: createDutyRota(infra.mongo.connection),
      protection,
      audit,
      now,
      work: createCallbackWork({ store, withLock, protection, audit, now }),
    };
    registerHotlineApi(api, deps);
    // The admin pages' fixed paths (/figures, /rota) come before the pages' /:ref.
    return [
      hotlineAdminPages({ ...deps, shell }),
      hotlinePages({ ...deps, shell, texts: loadTexts(resolve(infra.config.ussd.templatesDir)) }),
    ];
  },
  startWorkers(infra) {
    const store = createHotlineStore(infra.mongo.connection);
    const withLock = createLocks(infra.redis.client, infra.config.queuePrefix);
    const maintenance = infra.queues.create<{ task: string }>(HOTLINE_MAINTENANCE_QUEUE);
    void maintenance.process(PURGE_CLOSED_REQUESTS, 1, () =>
      purgeClosedRequests({ store, withLock, now, logger: infra.logger }, infra.config.hotline.retentionDays),
    );
    // At start, then every hour: a number is erased at most an hour after its retention ends.
    void maintenance
      .add(
        PURGE_CLOSED_REQUESTS,
        { task: PURGE_CLOSED_REQUESTS },
        { jobId: `${PURGE_CLOSED_REQUESTS}:start`, removeOnComplete: true, removeOnFail: true },
      )
      .catch(() => undefined);
    void maintenance
      .add(
        PURGE_CLOSED_REQUESTS,
        { task: PURGE_CLOSED_REQUESTS },
        { repeat: { every: 3_600_000 }, removeOnComplete: true, removeOnFail: true },
      )
      .catch(() => undefined);
  },
};
