import { createMessageStore } from '../../src/campaigns/message-store';
import { parseConfig } from '../../src/config/config';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { eventually } from '../support/eventually';
import { killableWorkers } from '../support/killable-workers';
import { seedSubscribers } from '../support/seed-subscribers';

/**
 * The worker killed (SIGKILL) twice while the fan-out walks the audience: Bull gave a job cut off a
 * second time up for good ("stalled more than allowable limit"), so the run never planned the rest of
 * its audience. Now the fan-out comes back each time and every recipient gets exactly one outcome.
 */
const AUDIENCE = 6_000;
// Small batches: the fan-out writes 600 of them, long enough to be cut off twice.
const bed = killableWorkers({ label: 'fanout-killed', env: { CAMPAIGN_BATCH_SIZE: '10' } });

type View = {
  status: string;
  progress: { recipients: number; sent: number; unknown: number; failed: number };
  runs: Array<{ run: string }>;
};

it('finishes a fan-out cut off twice, each recipient planned once', async () => {
  const { api, env, manager, fake } = bed;
  await seedSubscribers(api.infra.mongo.connection, createPhoneProtection(parseConfig(env).secrets), { from: 6_100_000, count: AUDIENCE });
  const text = 'Une offre de voyage gratuite ? Demandez conseil avant de partir.';
  const body = {
    name: 'fan-out cut twice', axis: 'prevention', texts: { fr: text },
    sendWindow: { from: '00:00', to: '00:00' }, spread: { maxPerSecond: 200, finishWithinHours: null },
  };
  const id = String((await manager.call('POST', '/api/v1/campaigns', body)).json._id);
  const view = async (): Promise<View> => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
  let worker = await bed.startWorker();
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);

  for (const plannedAtLeast of [600, 2_400]) {
    const planned = (await eventually(view, (v) => v.progress.recipients >= plannedAtLeast, 90_000)).progress.recipients;
    worker.kill('SIGKILL');
    // Still walking the audience when killed: the cut is inside the fan-out.
    expect(planned).toBeLessThan(AUDIENCE);
    worker = await bed.startWorker();
  }

  const done = await eventually(view, (v) => v.status === 'completed', 150_000);
  expect(done.progress.recipients).toBe(AUDIENCE);
  expect(fake.duplicates()).toEqual([]);
  const results = await createMessageStore(api.infra.mongo.connection).resultsOfRun(done.runs[0]?.run ?? '');
  expect(new Set(results.map((r) => r.subscriber)).size).toBe(AUDIENCE);
  expect(results).toHaveLength(AUDIENCE);
  const accepted = results.filter((r) => r.outcome === 'accepted').length;
  const unknown = results.filter((r) => r.outcome === 'unknown').length;
  expect(accepted + unknown).toBe(AUDIENCE);
  expect(done.progress).toMatchObject({ sent: accepted, unknown });
}, 300_000);
