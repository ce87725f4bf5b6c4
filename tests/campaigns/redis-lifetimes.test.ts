import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

// Short windows, set through the configuration: reports find their run for 2 s after the send
// (at most 4 s), and an ended run's live counters stay 4 s.
const WINDOW_HOURS = 2 / 3_600;
const REPORT_DAYS = 4 / 86_400;
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 12, logger, env: { DELIVERY_REPORT_WINDOW_HOURS: String(WINDOW_HOURS), CAMPAIGN_REPORT_DAYS: String(REPORT_DAYS), DELIVERY_REPORT_UNKNOWN_AFTER_MS: '0' } });

type Progress = { recipients: number; sent: number; delivered: number; failed: number; unknown: number; cost: number };
type View = { _id: string; status: string; progress: Progress; runs: Array<{ run: string }> };
const view = async (id: string): Promise<View> => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;

it('leaves no key of a campaign in Redis once its windows have passed, and its page keeps the final figures', async () => {
  const { running, fake, protection, manager } = bed;
  const redis = running.infra.redis.client;
  const prefix = running.infra.config.queuePrefix;
  fake.deliveryReportsTo(`${running.url}/sms/delivery?token=${running.infra.config.sms.callbackToken}`);
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 3_100_000, count: 30, topics: ['migration'] });
  const text = 'Avant de partir travailler loin, parlez-en a votre famille.';
  const created = await manager.call('POST', '/api/v1/campaigns', { name: 'lifetimes', axis: 'prevention', sendWindow: { from: '00:00', to: '00:00' }, texts: { fr: text }, audience: { topics: ['migration'] } });
  const id = String(created.json._id);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  const done = await eventually(() => view(id), (v) => v.status === 'completed' && v.progress.delivered === 30, 30_000);
  const run = done.runs[0]?.run ?? '';
  expect(done.progress).toMatchObject({ recipients: 30, sent: 30, delivered: 30, failed: 0, unknown: 0 });

  // Everything of this campaign outside Bull's own job records (bounded by count, see README).
  const bull = `${prefix}:campaigns:`;
  const keysOfCampaign = async (): Promise<string[]> =>
    (await redis.keys(`${prefix}:*`)).filter((key) => !key.startsWith(bull) && (key.includes(id) || key.includes(run) || key.includes('campaign-message-runs')));
  expect((await keysOfCampaign()).length).toBeGreaterThan(0);
  for (const key of await keysOfCampaign()) expect(await redis.pttl(key)).toBeGreaterThan(0);
  expect(await eventually(keysOfCampaign, (keys) => keys.length === 0, 20_000)).toEqual([]);

  // The page reads the final figures from MongoDB now.
  expect((await view(id)).progress).toMatchObject({ recipients: 30, sent: 30, delivered: 30, failed: 0, unknown: 0, cost: done.progress.cost });

  // A report after the window is kept and counted as unknown; it changes no figure and brings no key back.
  const before = Number((await redis.get(`${prefix}:delivery-reports-unknown`)) ?? 0);
  const late = fake.accepted.find((sms) => sms.message === text);
  const res = await fetch(`${running.url}/sms/delivery?token=${running.infra.config.sms.callbackToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id: late?.messageId ?? '', status: 'Failed', failureReason: 'DeliveryFailure', phoneNumber: late?.number ?? '' }).toString(),
  });
  expect(res.status).toBe(200);
  await eventually(async () => Number((await redis.get(`${prefix}:delivery-reports-unknown`)) ?? 0), (n) => n === before + 1, 10_000);
  expect((await view(id)).progress).toMatchObject({ delivered: 30, failed: 0 });
  expect(await keysOfCampaign()).toEqual([]);
}, 60_000);
