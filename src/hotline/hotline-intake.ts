import { resolve } from 'node:path';
import type { Infrastructure } from '../safeline';
import { queueSms } from '../gateway/sms-queue';
import { loadTexts } from '../texts/texts';
import { createDutyRota } from './duty-rota';
import { createHotlineStore } from './hotline-store';
import { recordCallbackRequest, type CallbackRequestInput, type RecordedRequest } from './record-callback-request';
import { recordReport, type ReportInput } from './record-report';
import type { ReferenceCodeSource } from './reference-codes';
import { createLocks } from '../platform/redis-lock';
import { createAlertBudget } from './alert-budget';

/** How reports and callback requests enter the hotline, whichever channel they came by. */
export interface HotlineIntake {
  /** Returns the code the report is stored under. */
  recordReport(report: ReportInput, at: Date): Promise<string>;
  recordCallbackRequest(input: CallbackRequestInput, at: Date): Promise<RecordedRequest>;
}

export function createHotlineIntake(infra: Infrastructure, codes: ReferenceCodeSource): HotlineIntake {
  const store = createHotlineStore(infra.mongo.connection);
  const deps = {
    store,
    rota: createDutyRota(infra.mongo.connection),
    withLock: createLocks(infra.redis.client, infra.config.queuePrefix),
    alertBudget: createAlertBudget(infra.redis.client, infra.config.queuePrefix, infra.config.hotline.alertsPerHour),
    queueSms: (jobId: string, job: Parameters<typeof queueSms>[2]) => queueSms(infra.queues, jobId, job),
    texts: loadTexts(resolve(infra.config.ussd.templatesDir)),
    freshCode: () => codes.fresh(),
    joinWindowHours: infra.config.hotline.joinWindowHours,
    now: () => new Date(),
    logger: infra.logger,
  };
  return {
    recordReport: (report, at) => recordReport({ store, freshCode: deps.freshCode, logger: infra.logger }, report, at),
    recordCallbackRequest: (input, at) => recordCallbackRequest(deps, input, at),
  };
}
