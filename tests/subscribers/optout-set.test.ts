import { createOptOutSet } from '../../src/subscribers/optout-set';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

/** The opted-out set in Redis is a copy: when Redis loses it, MongoDB's opt-outs still stop every send. */
const bed = managerOnFakeGateway({ seed: 11, env: { CAMPAIGN_BATCH_SIZE: '10' }, logger: captureLogger('warn').logger });
const ALWAYS = { from: '00:00', to: '00:00' };
type View = { _id: string; status: string; progress: { recipients: number; sent: number; optedOut: number } };
const view = async (id: string): Promise<View> => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;

it('rebuilds the set from MongoDB when Redis lost its keys, before a batch is sent: no opted-out number gets the campaign', async () => {
  const { running, fake, manager } = bed;
  const redis = running.infra.redis.client;
  const prefix = running.infra.config.queuePrefix;
  const phones = await seedSubscribers(running.infra.mongo.connection, bed.protection, { from: 5_100_000, count: 100, topics: ['law'] });
  const text = 'La traite est punie par la loi 2012-023.';
  const created = await manager.call('POST', '/api/v1/campaigns', { name: 'set lost', axis: 'prevention', sendWindow: ALWAYS, texts: { fr: text }, audience: { topics: ['law'] }, spread: { maxPerSecond: 10, finishWithinHours: null } });
  const id = String(created.json._id);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  await eventually(() => Promise.resolve(fake.accepted.filter((sms) => sms.message === text).length), (n) => n > 0, 15_000);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/pause`)).json.status).toBe('paused');

  // Five who have not had it yet send STOP (written to MongoDB and to the set, as always)...
  const stoppers = phones.slice(-5);
  expect(stoppers.every((phone) => fake.sentCount(phone) === 0)).toBe(true);
  for (const [i, phone] of stoppers.entries()) {
    const stop = await fetch(`${running.url}/sms/inbound?token=${running.infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ from: phone, to: '321', text: 'STOP', id: `lost-${i}`, date: new Date().toISOString() }) });
    expect(await stop.json()).toEqual({ action: 'stop' });
  }
  // ...then Redis loses the set (a restart without persistence, an eviction); the old "complete" flag survives.
  await redis.set(`${prefix}:optouts:complete`, '1');
  await redis.del(`${prefix}:optouts`);

  expect((await manager.call('POST', `/api/v1/campaigns/${id}/resume`)).json.status).toBe('running');
  const done = await eventually(() => view(id), (v) => v.status === 'completed', 60_000);
  expect(done.progress).toMatchObject({ recipients: 100, optedOut: 5, sent: 95 });
  expect(fake.accepted.filter((sms) => sms.message === text && stoppers.includes(sms.number))).toEqual([]);
  expect(await redis.sismember(`${prefix}:optouts`, bed.protection.hash(stoppers[0] ?? ''))).toBe(1);
}, 120_000);

it('rebuilds once across processes that find it missing together, and none answers before the rebuild is done', async () => {
  const redis = bed.running.infra.redis.client;
  const prefix = `${bed.running.infra.config.queuePrefix}:together`;
  let scans = 0;
  const loadAll = async () => {
    scans += 1;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return ['aa', 'bb'];
  };
  const [one, two] = [createOptOutSet(redis, prefix, loadAll), createOptOutSet(redis, prefix, loadAll)];
  const answers = await Promise.all([one.which(['aa', 'cc']), two.which(['bb', 'cc']), one.which(['cc'])]);
  expect(answers).toEqual([[true, false], [true, false], [false]]);
  expect(scans).toBe(1);
  // A STOP arriving after the loss, before the rebuild, recreates the key without the marker: still rebuilt.
  await redis.del(`${prefix}:optouts`);
  await one.add('dd');
  expect(await two.which(['aa', 'dd', 'cc'])).toEqual([true, true, false]);
  expect(scans).toBe(2);
  await redis.del(`${prefix}:optouts`);
});
