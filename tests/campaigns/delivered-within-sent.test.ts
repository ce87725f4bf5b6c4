import { SEND_BATCH, SEND_JOB_OPTIONS } from '../../src/campaigns/campaign-jobs';
import { sendCampaignBatch, type SendDeps } from '../../src/campaigns/send-campaign-batch';
import { createSendTurns } from '../../src/campaigns/send-turns';
import { takeLease } from '../../src/platform/redis-lease';
import { smsGatewayOf } from '../../src/gateway/create-gateway';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { handMadeRun } from '../support/hand-made-run';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/**
 * A worker dies after the gateway accepted a batch and before its results are written. The batch is
 * then reconciled as "unknown" by a live worker; the delivery reports of those messages, posted over
 * real HTTP, must not count as delivered (before, the messageId map was written ahead of the results,
 * so delivered exceeded sent). The death is the send job stopping where the results would be
 * written; everything else (store, Redis, gateway, queue, reports) is real.
 */
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 29, logger, env: { DELIVERY_REPORT_UNKNOWN_AFTER_MS: '300' } });

class WorkerKilled extends Error {}

it('keeps delivered + failed delivery within sent when a worker dies between the send and its results', async () => {
  const infra = bed.running.infra;
  const phones = await seedSubscribers(infra.mongo.connection, bed.protection, { from: 8_200_000, count: 4, region: 'menaka' });
  const text = 'Un emploi trop beau pour etre vrai est un piege.';
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: 'dies before results', axis: 'prevention', texts: { fr: text }, audience: { regions: ['menaka'] }, sendWindow: { from: '00:00', to: '00:00' } });
  const id = String(created.json._id);
  const { deps, run, batch } = await handMadeRun(bed, id, { phones, text, status: 'queued' });

  // The worker that dies: the real send, stopped where the results would be written.
  const prefix = infra.config.queuePrefix;
  const dying: SendDeps = {
    ...deps,
    messages: { ...deps.messages, insertResults: () => Promise.reject(new WorkerKilled('killed before the results')) },
    // Killed before even the gateway's answer was kept beside the batch: no answer survives.
    calls: { ...deps.calls, save: (batchId, call) => (call.state === 'answered' ? Promise.reject(new WorkerKilled('killed before the answers were kept')) : deps.calls.save(batchId, call)) },
    claimBatch: (batchId) => takeLease(infra.redis.client, `${prefix}:campaign-batch-lease:${batchId}`, 30_000),
    takeTurn: createSendTurns(infra.redis.client, prefix, 100_000),
    gateway: smsGatewayOf(infra),
    stopCampaign: () => Promise.resolve(),
    finishRunIfDone: () => Promise.resolve(),
    logger,
  };
  await expect(sendCampaignBatch(dying, { campaignId: id, batchId: batch._id })).rejects.toBeInstanceOf(WorkerKilled);
  const ids = bed.fake.accepted.filter((sms) => sms.message === text).map((sms) => sms.messageId);
  expect(ids).toHaveLength(4);

  // Bull gives the job to a live worker: the batch is "sending", nothing recorded, all unknown.
  await deps.queue.add(SEND_BATCH, { campaignId: id, batchId: batch._id }, { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@stalled` });
  type View = { status: string; progress: { recipients: number; sent: number; delivered: number; failed: number; unknown: number; failedDelivery?: number } };
  const view = async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  expect((await eventually(view, (v) => v.status === 'completed', 20_000)).progress).toMatchObject({ recipients: 4, sent: 0, unknown: 4 });

  // The gateway reports the messages it took: three delivered, one failed.
  const redis = infra.redis.client;
  const unknownBefore = Number(await redis.get(`${prefix}:delivery-reports-unknown`));
  const token = infra.config.sms.callbackToken;
  for (const [i, messageId] of ids.entries()) {
    const body = new URLSearchParams({ id: messageId, status: i < 3 ? 'Success' : 'Failed', phoneNumber: '+22370000000' });
    expect((await fetch(`${bed.running.url}/sms/delivery?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })).status).toBe(200);
  }
  // Taken by the worker: counted as reports for unknown messages, not as deliveries.
  const delivered = async () => ({ unknown: Number(await redis.get(`${prefix}:delivery-reports-unknown`)) - unknownBefore, progress: (await view()).progress });
  const seen = await eventually(delivered, (d) => d.unknown + d.progress.delivered + d.progress.failed >= 4, 15_000);
  const p = seen.progress;
  expect(p.delivered + (p.failedDelivery ?? p.failed)).toBeLessThanOrEqual(p.sent);
  expect(seen.unknown).toBe(4);
  expect(await redis.hget(`${prefix}:campaign-run:${run}`, 'delivered')).toBeNull();
}, 40_000);
