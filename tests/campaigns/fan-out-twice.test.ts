import { campaignDepsOf } from '../../src/campaigns/campaign-deps';
import { fanOutCampaignRun, type FanOutDeps } from '../../src/campaigns/fan-out-campaign-run';
import type { CampaignBatch } from '../../src/campaigns/message-store';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

// A fan-out job whose lock lapsed (a worker frozen for longer than Bull's lock, a long GC pause) is
// run again while the first run of it still works: both walk the same audience at once.
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 14, logger });

it('puts every subscriber in exactly one batch when two fan-outs of the same run overlap', async () => {
  const phones = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 4_000_000, count: 3_000, topics: ['law'] });
  // A draft: its send jobs find it not running and send nothing; only the batches are looked at.
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { name: 'twice', axis: 'prevention', sendWindow: { from: '00:00', to: '00:00' }, texts: { fr: 'La loi punit la traite.' }, audience: { topics: ['law'] } });
  expect(created.status).toBe(200);
  const campaignId = String(created.json._id);
  const deps = campaignDepsOf(bed.running.infra);
  const fanOutDeps: FanOutDeps = { ...deps, logger, markRunning: () => Promise.resolve(), finishRunIfDone: () => Promise.resolve() };
  const job = { campaignId, runId: `${campaignId}~twice`, startedAt: new Date().toISOString(), joinedBefore: '', joinedAfter: '' };

  const first = fanOutCampaignRun(fanOutDeps, job);
  // The second starts once the first is part-way through its first page, and someone further on that
  // page opts out meanwhile: the second's page lacks them, so its batches fall differently.
  await eventually(() => deps.progress.get(job.runId), (p) => p.recipients >= 200, 20_000);
  const leaving = bed.protection.hash(phones[750] ?? '');
  await bed.running.infra.mongo.connection.collection('subscribers').updateOne({ _id: leaving as never }, { $set: { 'consent.status': 'opted_out' } });
  await Promise.all([first, fanOutCampaignRun(fanOutDeps, job)]);

  const batches = await bed.running.infra.mongo.connection.collection<CampaignBatch>('campaign_batches').find({ run: job.runId }).toArray();
  const batched = batches.flatMap((batch) => batch.recipients.map((r) => r.subscriber));
  expect(new Set(batched).size).toBe(3_000);
  expect(batched).toHaveLength(3_000);
  expect((await deps.progress.get(job.runId)).recipients).toBe(3_000);
}, 90_000);
