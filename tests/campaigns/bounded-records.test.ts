import { CAMPAIGN_QUEUE, SEND_BATCH, type CampaignJob } from '../../src/campaigns/campaign-jobs';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

// What a campaign leaves behind must not grow with its audience: a record per batch kept in Redis
// after its job is done is ten thousand records for a million recipients, for nothing (the batch
// document in MongoDB says what the job did).
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 13, logger, env: { CAMPAIGN_BATCH_SIZE: '50' } });

it('keeps no finished send job in Redis once a campaign is done, and sends everyone once', async () => {
  await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 3_000_000, count: 600, topics: ['children'] });
  const text = 'Avant de partir, appelez le 80 00 11 11.';
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: 'bounded', axis: 'prevention', sendWindow: { from: '00:00', to: '00:00' }, texts: { fr: text }, audience: { topics: ['children'] } });
  expect(created.status).toBe(200);
  const id = String(created.json._id);
  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  const done = await eventually(
    async () => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as { status: string; progress: { recipients: number; sent: number } },
    (view) => view.status === 'completed',
    60_000,
  );
  expect(done.progress).toMatchObject({ recipients: 600, sent: 600 });
  expect(bed.fake.accepted.filter((sms) => sms.message === text)).toHaveLength(600);
  expect(bed.fake.duplicates()).toEqual([]);

  // Twelve batches were sent; none of their jobs is kept.
  const queue = bed.running.infra.queues.create<CampaignJob>(CAMPAIGN_QUEUE);
  // The last job finishes a moment after it has completed the campaign.
  const kept = await eventually(async () => (await queue.getCompleted()).filter((job) => job.name === SEND_BATCH).length, (n) => n === 0, 5_000);
  expect(kept).toBe(0);
}, 90_000);
