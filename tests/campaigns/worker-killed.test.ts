import { createMessageStore } from '../../src/campaigns/message-store';
import { parseConfig } from '../../src/config/config';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { eventually } from '../support/eventually';
import { killableWorkers } from '../support/killable-workers';
import { seedSubscribers } from '../support/seed-subscribers';

/**
 * A worker process killed (SIGKILL) in the middle of a campaign: a new worker finishes it, and no
 * number gets the message twice. The batch cut off mid-send is marked "unknown", not resent.
 */
const bed = killableWorkers({ label: 'killed', gateway: { latencyMs: 40 } });

it('resumes after a worker is killed mid-campaign, with no duplicate at the gateway', async () => {
  const { api, env, manager, fake } = bed;
  const protection = createPhoneProtection(parseConfig(env).secrets);
  await seedSubscribers(api.infra.mongo.connection, protection, { from: 6_000_000, count: 3_000 });
  const first = await bed.startWorker();
  const text = 'Partir travailler loin ? Gardez vos papiers sur vous.';
  const created = await manager.call('POST', '/api/v1/campaigns', { name: 'killed midway', axis: 'prevention', texts: { fr: text }, sendWindow: { from: '00:00', to: '00:00' }, spread: { maxPerSecond: 400, finishWithinHours: null } });
  const id = String(created.json._id);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);

  await eventually(() => Promise.resolve(fake.accepted.length), (n) => n >= 600, 60_000);
  first.kill('SIGKILL');
  const killedAt = fake.accepted.length;
  expect(killedAt).toBeLessThan(3_000);
  await bed.startWorker();

  // Bull gives the killed worker's job back once its lock lapses (10 s, STALLED_JOBS).
  type View = { status: string; progress: { recipients: number; sent: number; unknown: number; failed: number }; runs: Array<{ run: string }> };
  const done = await eventually(async () => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View, (v) => v.status === 'completed', 160_000);
  expect(done.status).toBe('completed');
  expect(fake.duplicates()).toEqual([]);
  expect(fake.accepted.filter((sms) => sms.message === text).length).toBeLessThanOrEqual(3_000);

  const results = await createMessageStore(api.infra.mongo.connection).resultsOfRun(done.runs[0]?.run ?? '');
  expect(results).toHaveLength(3_000);
  expect(new Set(results.map((r) => r.subscriber)).size).toBe(3_000);
  const accepted = results.filter((r) => r.outcome === 'accepted').length;
  const unknown = results.filter((r) => r.outcome === 'unknown').length;
  expect(accepted + unknown).toBe(3_000);
  expect(done.progress).toMatchObject({ recipients: 3_000, sent: accepted, unknown });
  // What the gateway took but nobody recorded is exactly what is marked unknown, never more.
  expect(fake.accepted.length - accepted).toBeLessThanOrEqual(unknown);
}, 210_000);
