import { SEND_BATCH, SEND_JOB_OPTIONS } from '../../src/campaigns/campaign-jobs';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { handMadeRun } from '../support/hand-made-run';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/**
 * A worker died while the gateway was answering a batch: nothing of the answer survived, so a live
 * worker records the three recipients "unknown". The gateway had accepted two of them, and their
 * delivery reports (messageId and phone number, as AT posts them) come later over real HTTP: each of
 * those two becomes sent (and delivered or not), once, however often its reports come; the third stays unknown.
 */
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 37, logger, env: { DELIVERY_REPORT_UNKNOWN_AFTER_MS: '300' } });

type View = { status: string; progress: { recipients: number; sent: number; delivered: number; failedDelivery: number; failed: number; optedOut: number; cancelled: number; unknown: number } };

it('turns an unknown send into sent when its delivery report names its phone, and counts it once', async () => {
  const infra = bed.running.infra;
  const phones = await seedSubscribers(infra.mongo.connection, bed.protection, { from: 8_400_000, count: 3, region: 'bourem' });
  const text = 'On ne paie pas pour un travail promis.';
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: 'answer lost', axis: 'prevention', texts: { fr: text }, audience: { regions: ['bourem'] }, sendWindow: { from: '00:00', to: '00:00' } });
  const id = String(created.json._id);
  // What the dead worker left: the batch "sending", no answer kept, nothing recorded.
  const { deps, run, recipients, batch } = await handMadeRun(bed, id, { phones, text, status: 'sending' });
  await deps.queue.add(SEND_BATCH, { campaignId: id, batchId: batch._id }, { ...SEND_JOB_OPTIONS, jobId: `${batch._id}@stalled` });
  const view = async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  expect((await eventually(view, (v) => v.status === 'completed', 20_000)).progress).toMatchObject({ recipients: 3, sent: 0, unknown: 3 });

  // The gateway reports what it took, as AT does (E.164 numbers), some reports twice, a "Sent" before the final one.
  const post = (messageId: string, status: string, phoneNumber: string) =>
    fetch(`${bed.running.url}/sms/delivery?token=${infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ id: messageId, status, phoneNumber, networkCode: '61002' }) });
  const [first = '', second = ''] = phones;
  for (const [messageId, status, phone] of [['ATXid_lost_1', 'Sent', first], ['ATXid_lost_1', 'Success', first], ['ATXid_lost_2', 'Failed', second], ['ATXid_lost_1', 'Success', first]] as const) {
    expect((await post(messageId, status, phone)).status).toBe(200);
  }
  const settled = await eventually(view, (v) => v.progress.delivered + v.progress.failedDelivery >= 2, 15_000);
  expect(settled.progress).toMatchObject({ recipients: 3, sent: 2, unknown: 1, delivered: 1, failedDelivery: 1 });

  // Posted again later (a gateway retrying): nothing moves twice.
  expect((await post('ATXid_lost_2', 'Failed', second)).status).toBe(200);
  expect((await post('ATXid_lost_1', 'Success', first)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const p = (await view()).progress;
  expect(p).toMatchObject({ sent: 2, unknown: 1, delivered: 1, failedDelivery: 1 });
  expect(p.sent + p.failed + p.unknown + p.optedOut + p.cancelled).toBe(p.recipients);
  expect(p.delivered + p.failedDelivery).toBeLessThanOrEqual(p.sent);

  // The records say the same, one per recipient, the linked ones under the gateway's messageId.
  const results = await deps.messages.resultsOfRun(run);
  const byMessage = Object.fromEntries(results.map((r) => [r.message, { outcome: r.outcome, messageId: r.messageId }]));
  expect(byMessage).toEqual({
    [recipients[0]?.message ?? '']: { outcome: 'accepted', messageId: 'ATXid_lost_1' },
    [recipients[1]?.message ?? '']: { outcome: 'accepted', messageId: 'ATXid_lost_2' },
    [recipients[2]?.message ?? '']: { outcome: 'unknown', messageId: undefined },
  });
  expect(await deps.progress.runsOf(['ATXid_lost_1', 'ATXid_lost_2'])).toEqual([run, run]);
  const csv = await bed.manager.call('GET', `/api/v1/campaigns/${id}/report.csv`);
  expect(csv.text).toContain('ATXid_lost_1');
}, 60_000);
