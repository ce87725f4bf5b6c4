import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

// The gateway's ceiling, 50 messages/s, in batches of 10 (a turn of 200 ms): what the fake sees is measured.
const CEILING = 50;
const BATCH = 10;
const bed = managerOnFakeGateway({ seed: 3, env: { SMS_MAX_PER_SECOND: String(CEILING), CAMPAIGN_BATCH_SIZE: String(BATCH) }, logger: captureLogger('warn').logger });
const { manager } = bed;
const ALWAYS = { from: '00:00', to: '00:00' };

type View = { _id: string; status: string; progress: { sent: number } };
async function start(body: Record<string, unknown>): Promise<string> {
  const created = await manager.call('POST', '/api/v1/campaigns', { axis: 'prevention', sendWindow: ALWAYS, ...body });
  expect(created.status).toBe(200);
  expect((await manager.call('POST', `/api/v1/campaigns/${String(created.json._id)}/schedule`)).status).toBe(200);
  return String(created.json._id);
}
const view = async (id: string): Promise<View> => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
/** The most messages the fake accepted within any one second. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j += 1) {
    while ((sorted[j] ?? 0) - (sorted[i] ?? 0) >= 1_000) i += 1;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

it('keeps two campaigns that run at once under the gateway ceiling together', async () => {
  await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 7_000_000, count: 100, region: 'kayes' });
  await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 7_100_000, count: 100, region: 'gao' });
  const texts = ['Kayes: ne confiez pas vos enfants a un inconnu.', 'Gao: un travail trop beau cache souvent un piege.'];
  // Each alone would go at the full ceiling.
  const ids = [await start({ name: 'kayes', texts: { fr: texts[0] }, audience: { regions: ['kayes'] } }), await start({ name: 'gao', texts: { fr: texts[1] }, audience: { regions: ['gao'] } })];
  for (const id of ids) expect((await eventually(() => view(id), (v) => v.status === 'completed', 30_000)).progress.sent).toBe(100);

  const times = bed.fake.accepted.filter((sms) => texts.includes(sms.message)).map((sms) => sms.at);
  expect(times).toHaveLength(200);
  // Two batches of slack: a batch goes out whole at the start of its turn, and may reach the fake late.
  // Unpaced, the two would go at twice the ceiling.
  expect(busiestSecond(times)).toBeLessThanOrEqual(CEILING + 2 * BATCH);
  expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(((200 - CEILING - 2 * BATCH) / CEILING) * 1_000);
}, 60_000);

it('resumes a paused campaign at its own pace, not all at once', async () => {
  await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 7_200_000, count: 120, region: 'tombouctou' });
  const text = 'Tombouctou: la traite est punie par la loi 2012-023.';
  const id = await start({ name: 'slow', texts: { fr: text }, audience: { regions: ['tombouctou'] }, spread: { maxPerSecond: 20, finishWithinHours: null } });
  await eventually(() => Promise.resolve(bed.fake.accepted.filter((sms) => sms.message === text).length), (n) => n >= 20, 10_000);
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/pause`)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const resumedAt = Date.now();
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/resume`)).status).toBe(200);
  expect((await eventually(() => view(id), (v) => v.status === 'completed', 30_000)).progress.sent).toBe(120);

  const afterResume = bed.fake.accepted.filter((sms) => sms.message === text && sms.at >= resumedAt).map((sms) => sms.at);
  expect(afterResume.length).toBeGreaterThanOrEqual(40);
  // 20 a second in batches of 10: two batches a second, three at most in any one-second window.
  expect(busiestSecond(afterResume)).toBeLessThanOrEqual(20 + BATCH);
}, 60_000);
