import { SEND_BATCH, SEND_JOB_OPTIONS } from '../../src/campaigns/campaign-jobs';
import type { SendResult } from '../../src/campaigns/message-store';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { handMadeRun } from '../support/hand-made-run';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/**
 * A worker died after the gateway answered a batch, having written the retry batch for the
 * recipients the gateway refused for a while, but before closing the batch or queueing that retry.
 * The state it leaves is written here as it would leave it; Bull then gives the batch's job to a
 * live worker, which runs for real against the fake gateway.
 */
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 23, logger, env: { CAMPAIGN_RETRY_DELAY_MS: '200' } });

/** What the dead worker left: the campaign running, the batch "sending", a result for the accepted
 * recipient, and the retry batch (queued, no job, not pending) for the refused one. */
async function cutOffBatch(from: number, region: string, text: string) {
  const [recorded = '', refused = '', lost = ''] = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from, count: 3, region });
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: `cut off ${region}`, axis: 'prevention', texts: { fr: text }, audience: { regions: [region] }, sendWindow: { from: '00:00', to: '00:00' } });
  const id = String(created.json._id);
  const phones = [recorded, refused, lost];
  const { deps, run, recipients, batch } = await handMadeRun(bed, id, { phones, text, status: 'sending', batchSuffix: (first) => first });
  const [a, b, c] = recipients;
  if (!a || !b || !c) throw new Error('three recipients');
  await deps.messages.insertResults([{ _id: `ATXid_before_the_crash_${region}`, message: a.message, campaign: id, run, subscriber: a.subscriber, outcome: 'accepted', statusCode: 101, status: 'Success', cost: 20, parts: 1, at: new Date() }]);
  const retryBatch = { ...batch, _id: `${batch._id}~1`, recipients: [b], status: 'queued' as const, retry: 1 };
  await deps.messages.insertBatch(retryBatch);
  return { id, run, deps, batch, retryBatch, a, b, c, refused };
}

type View = { status: string; progress: { recipients: number; sent: number; failed: number; optedOut: number; cancelled: number; unknown: number } };
const completed = (id: string) => eventually(async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View, (v) => v.status === 'completed', 20_000);

it('reconciles a batch cut off after its retry batch was written: the retry sends, only the rest is unknown', async () => {
  const text = 'Un passeur qui promet un travail en Europe ment.';
  const { id, run, deps, batch, a, b, c, refused } = await cutOffBatch(8_100_000, 'kidal', text);
  await deps.queue.add(SEND_BATCH, { campaignId: id, batchId: batch._id }, { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@stalled` });
  const done = await completed(id);

  const outcomes = Object.fromEntries((await deps.messages.resultsOfRun(run)).map((r: SendResult) => [r.message, r.outcome]));
  expect(outcomes).toEqual({ [a.message]: 'accepted', [b.message]: 'accepted', [c.message]: 'unknown' });
  // The refused one went to the gateway once, by its retry; the other two were never resent.
  expect(bed.fake.accepted.filter((sms) => sms.message === text).map((sms) => sms.number)).toEqual([refused]);
  expect(done.progress).toMatchObject({ recipients: 3, sent: 2, unknown: 1 });
  // The result written before the crash is counted as sent now, and only now its delivery reports find the run.
  expect(await deps.progress.runsOf(['ATXid_before_the_crash_kidal'])).toEqual([run]);
}, 40_000);

it('counts each recipient once when the retry batch runs and records before the cut-off batch is reconciled', async () => {
  const text = 'Un recruteur qui garde vos papiers vous ment.';
  const { id, run, deps, batch, retryBatch, a, b, c } = await cutOffBatch(8_100_100, 'taoudeni', text);
  // The retry's job was queued before the crash and runs first: it sends, records and counts the refused one.
  await deps.progress.addPending(run, retryBatch._id);
  await deps.queue.add(SEND_BATCH, { campaignId: id, batchId: retryBatch._id }, { ...SEND_JOB_OPTIONS, jobId: retryBatch._id });
  await eventually(async () => (await deps.messages.getBatch(retryBatch._id))?.status, (status) => status === 'done', 20_000);
  expect((await deps.progress.get(run)).sent).toBe(1);

  // Only then is the cut-off batch given to a live worker: it finds the retry's result among its recipients'.
  await deps.queue.add(SEND_BATCH, { campaignId: id, batchId: batch._id }, { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@stalled` });
  const done = await completed(id);
  const outcomes = Object.fromEntries((await deps.messages.resultsOfRun(run)).map((r: SendResult) => [r.message, r.outcome]));
  expect(outcomes).toEqual({ [a.message]: 'accepted', [b.message]: 'accepted', [c.message]: 'unknown' });
  expect(done.progress).toMatchObject({ recipients: 3, sent: 2, unknown: 1 });
  const p = done.progress;
  expect(p.sent + p.failed + p.unknown + p.optedOut + p.cancelled).toBe(p.recipients);
}, 40_000);
