import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/**
 * Recipients the gateway refused (failed to send) and messages sent but reported not delivered
 * (failed delivery) are two counters: the first adds up with sent to the recipients, the second is
 * part of sent. "Queued" on the campaign page is exactly what is left to send, whatever the reports
 * say meanwhile. Real gateway fake over HTTP, real reports over HTTP, the real console page.
 */
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 31, logger, env: { CAMPAIGN_BATCH_SIZE: '5' } });

type Progress = { recipients: number; sent: number; delivered: number; failed: number; failedDelivery: number; optedOut: number; unknown: number; cancelled: number };
type View = { status: string; progress: Progress };

it('keeps failed to send apart from failed delivery, and queued exact while reports come in', async () => {
  const phones = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 8_300_000, count: 10, region: 'douentza' });
  const refused = phones.slice(0, 2);
  for (const phone of refused) bed.fake.statusFor(phone, 403);
  const text = 'Vos papiers sont a vous: ne les confiez a personne.';
  // One batch of five a second at most: the second batch waits about five seconds behind the first.
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: 'two failures', axis: 'prevention', texts: { fr: text }, audience: { regions: ['douentza'] }, sendWindow: { from: '00:00', to: '00:00' }, spread: { maxPerSecond: 1, finishWithinHours: null } });
  const id = String(created.json._id);
  const view = async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  const queuedOnPage = async () => Number(/class="queued"[^>]*\/><text[^>]*>(\d+)</.exec((await bed.manager.call('GET', `/console/campaigns/${id}/progress`)).text)?.[1]);
  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);

  // The first batch is closed: pause before the second goes.
  const first = await eventually(view, (v) => v.progress.sent + v.progress.failed >= 5, 20_000);
  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/pause`)).status).toBe(200);
  const firstIds = bed.fake.accepted.filter((sms) => sms.message === text).map((sms) => sms.messageId);
  expect(firstIds).toHaveLength(first.progress.sent);
  const refusedFirst = first.progress.failed;
  expect(first.progress.sent + refusedFirst).toBe(5);

  // Every message of the first batch is reported failed; once applied, what is left to send is still the second batch.
  const post = (messageId: string, status: string) =>
    fetch(`${bed.running.url}/sms/delivery?token=${bed.running.infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ id: messageId, status, failureReason: status === 'Failed' ? 'DeliveryFailure' : '' }) });
  for (const messageId of firstIds) expect((await post(messageId, 'Failed')).status).toBe(200);
  const reports = bed.running.infra.mongo.connection.collection('delivery_reports');
  await eventually(() => reports.countDocuments({ messageId: { $in: firstIds } }), (n) => n === firstIds.length, 15_000);
  await eventually(view, (v) => v.progress.delivered + v.progress.failed + (v.progress.failedDelivery ?? 0) >= 5 + firstIds.length, 15_000);
  expect((await view()).progress).toMatchObject({ recipients: 10, sent: firstIds.length, failed: refusedFirst, failedDelivery: firstIds.length, delivered: 0 });
  expect(await queuedOnPage()).toBe(5);

  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/resume`)).status).toBe(200);
  await eventually(view, (v) => v.status === 'completed', 30_000);
  const rest = bed.fake.accepted.filter((sms) => sms.message === text).map((sms) => sms.messageId).filter((messageId) => !firstIds.includes(messageId));
  for (const messageId of rest) expect((await post(messageId, 'Success')).status).toBe(200);
  const done = await eventually(view, (v) => v.progress.delivered >= rest.length, 15_000);
  const p = done.progress;
  expect(p).toMatchObject({ recipients: 10, sent: 8, failed: 2, failedDelivery: firstIds.length, delivered: rest.length, unknown: 0 });
  expect(p.sent + p.failed + p.unknown + p.optedOut + p.cancelled).toBe(p.recipients);
  expect(p.delivered + p.failedDelivery).toBeLessThanOrEqual(p.sent);
  expect(await queuedOnPage()).toBe(0);
  const page = (await bed.manager.call('GET', `/console/campaigns/${id}/progress`)).text;
  expect(page).toContain('Échecs d\'envoi');
  expect(page).toContain('Non remis');
}, 60_000);
