import { resolve } from 'node:path';
import type { Infrastructure } from '../safeline';
import { queueSms } from '../sms/sms-queue';
import { loadTexts } from '../texts/texts';
import { createDutyRota } from './duty-rota';
import type { CaseReport } from './hotline-store';
import { createHotlineStore } from './hotline-store';
import { recordCallbackRequest, type CallbackRequestInput } from './record-callback-request';
import { createLocks } from '../platform/redis-lock';
import { createAlertBudget } from './alert-budget';

/** How reports and callback requests enter the hotline, whichever channel they came by. */
export interface HotlineIntake {
  recordReport(report: Omit<CaseReport, 'createdAt' | 'day'>, at: Date): Promise<void>;
  recordCallbackRequest(input: CallbackRequestInput, at: Date): Promise<{ queuedAs: string; joined: boolean }>;
}

export function createHotlineIntake(infra: Infrastructure): HotlineIntake {
  const store = createHotlineStore(infra.mongo.connection);
  const deps = {
    store,
    rota: createDutyRota(infra.mongo.connection),
    withLock: createLocks(infra.redis.client, infra.config.queuePrefix),
    alertBudget: createAlertBudget(infra.redis.client, infra.config.queuePrefix, infra.config.hotline.alertsPerHour),
    queueSms: (jobId: string, job: Parameters<typeof queueSms>[2]) => queueSms(infra.queues, jobId, job),
    texts: loadTexts(resolve(infra.config.ussd.templatesDir)),
    joinWindowHours: infra.config.hotline.joinWindowHours,
    now: () => new Date(),
    logger: infra.logger,
  };
  return {
    recordReport: (report, at) => store.recordReport(report, at),
    recordCallbackRequest: (input, at) => recordCallbackRequest(deps, input, at),
  };
}
