import type { Job } from 'bull';
import { CHECK_RELATIVE, FAN_OUT } from '../../src/campaigns/campaign-jobs';
import { campaignDepsOf } from '../../src/campaigns/campaign-deps';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';

// Recurring and relative campaigns wait for hours or days. Instead of waiting, these tests promote
// Bull's delayed job for the next occurrence or check, as if its time had come: the rest is real.
const { logger } = captureLogger('warn');
const bed = managerOnFakeGateway({ seed: 11, logger });
const { manager } = bed;
const ALWAYS = { from: '00:00', to: '00:00' };
const DAY = 86_400_000;

type View = { _id: string; status: string; stoppedReason: string | null; progress: { recipients: number; sent: number; cost: number }; runs: Array<{ run: string }> };
const view = async (id: string): Promise<View> => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View;
async function create(body: Record<string, unknown>): Promise<string> {
  const created = await manager.call('POST', '/api/v1/campaigns', { axis: 'prevention', sendWindow: ALWAYS, ...body });
  expect(created.status).toBe(200);
  return String(created.json._id);
}
async function schedule(id: string): Promise<View> {
  const scheduled = await manager.call('POST', `/api/v1/campaigns/${id}/schedule`);
  expect(scheduled.status).toBe(200);
  return scheduled.json as unknown as View;
}
const queue = () => campaignDepsOf(bed.running.infra).queue;
/** The campaign's next delayed job of that name (a recurring occurrence or a relative check). */
async function nextDelayed(name: string, campaignId: string): Promise<Job | undefined> {
  return (await queue().getDelayed()).find((job) => job.name === name && job.data.campaignId === campaignId);
}
async function runNow(name: string, campaignId: string): Promise<Job> {
  const job = await nextDelayed(name, campaignId);
  if (!job) throw new Error(`no delayed ${name} job for ${campaignId}`);
  await job.promote();
  await eventually(async () => (await queue().getJob(String(job.id)))?.finishedOn ?? 0, (finished) => finished > 0, 15_000);
  return job;
}
const numbersThatGot = (text: string): string[] => bed.fake.accepted.filter((sms) => sms.message === text).map((sms) => sms.number).sort();

it('runs a recurring campaign at its cron time in Bamako, once per occurrence, skips occurrences while paused, and stops on cancel', async () => {
  const phones = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 6_000_000, count: 30, topics: ['migration'], region: 'segou' });
  const text = 'Chaque lundi: avant de partir, verifiez l offre aupres de l ANPE.';
  const id = await create({ name: 'every monday', texts: { fr: text }, audience: { regions: ['segou'] }, schedule: { kind: 'recurring', cron: '0 9 * * 1' } });
  expect((await schedule(id)).status).toBe('scheduled');

  // Bamako is UTC+0 all year: Monday 09:00 there is Monday 09:00 UTC.
  const [repeatable] = (await queue().getRepeatableJobs()).filter((r) => r.id === `recurring-${id}`);
  expect(repeatable).toMatchObject({ cron: '0 9 * * 1', tz: 'Africa/Bamako' });
  const next = new Date(repeatable?.next ?? 0);
  expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 9, 0]);
  expect(next.getTime()).toBeGreaterThan(Date.now());
  expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * DAY);

  // The first Monday comes: everyone in the audience gets it once, and the campaign keeps bed.running.
  const first = await runNow(FAN_OUT, id);
  expect(Number(String(first.id).split(':').pop())).toBe(next.getTime());
  await eventually(() => Promise.resolve(numbersThatGot(text).length), (n) => n >= 30, 15_000);
  expect(numbersThatGot(text)).toEqual([...phones].sort());
  const afterFirst = await eventually(() => view(id), (v) => v.progress.sent === 30);
  expect(afterFirst.status).toBe('running');
  expect(afterFirst.runs.map((r) => r.run)).toEqual([`${id}@${next.toISOString().slice(0, 16)}`]);

  // Bull queued the following Monday; while paused, that occurrence is skipped, not saved up.
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/pause`)).json.status).toBe('paused');
  const second = await nextDelayed(FAN_OUT, id);
  expect(Number(String(second?.id).split(':').pop()) - next.getTime()).toBe(7 * DAY);
  await runNow(FAN_OUT, id);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(numbersThatGot(text)).toHaveLength(30);
  expect((await view(id)).runs).toHaveLength(1);

  // Resumed, the third Monday is a run of its own: everyone gets the message a second time.
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/resume`)).json.status).toBe('running');
  await runNow(FAN_OUT, id);
  await eventually(() => Promise.resolve(numbersThatGot(text).length), (n) => n >= 60, 15_000);
  expect(phones.every((phone) => bed.fake.sentCount(phone) === 2)).toBe(true);
  expect((await view(id)).runs).toHaveLength(2);

  // Cancelled: no repeatable left and no occurrence waiting.
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/cancel`)).json.status).toBe('cancelled');
  expect((await queue().getRepeatableJobs()).filter((r) => r.id === `recurring-${id}`)).toEqual([]);
  expect(await nextDelayed(FAN_OUT, id)).toBeUndefined();
}, 60_000);

it('sends a relative campaign N days after each subscriber joined, to those who joined after it was scheduled, once', async () => {
  const t0 = Date.now();
  // Joined 3 days ago: before the campaign existed, so never messaged backwards.
  const before = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 6_100_000, count: 3, region: 'mopti', joinedAt: new Date(t0 - 3 * DAY) });
  // Joined 2 days ago give or take 15 s: due 15 s after the campaign is scheduled.
  const due = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 6_200_000, count: 4, region: 'mopti', joinedAt: new Date(t0 - 2 * DAY + 15_000) });
  // Joined yesterday: due tomorrow.
  const later = await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 6_300_000, count: 2, region: 'mopti', joinedAt: new Date(t0 - DAY) });
  const text = 'Deux jours apres votre inscription: composez *321# pour en savoir plus.';
  const id = await create({ name: 'two days after joining', texts: { fr: text }, audience: { regions: ['mopti'] }, schedule: { kind: 'relative', daysAfterJoin: 2 } });
  expect((await schedule(id)).status).toBe('running');

  // The first check runs at once: nobody is due yet.
  const firstCheck = await queue().getJob(`relative:${id}:first`);
  await firstCheck?.finished();
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(numbersThatGot(text)).toEqual([]);
  expect((await queue().getRepeatableJobs()).filter((r) => r.id === `relative-${id}`)).toHaveLength(1);

  // The hourly check after the 15 s have passed: only the four who are now two days in.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + 16_000 - Date.now())));
  await runNow(CHECK_RELATIVE, id);
  await eventually(() => Promise.resolve(numbersThatGot(text).length), (n) => n >= 4, 15_000);
  expect(numbersThatGot(text)).toEqual([...due].sort());

  // The next check finds nobody new and sends nobody twice.
  await runNow(CHECK_RELATIVE, id);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(numbersThatGot(text)).toEqual([...due].sort());
  expect([...before, ...later].every((phone) => bed.fake.sentCount(phone) === 0)).toBe(true);
  const after = await view(id);
  expect(after).toMatchObject({ status: 'running', progress: { recipients: 4, sent: 4 } });

  expect((await manager.call('POST', `/api/v1/campaigns/${id}/cancel`)).json.status).toBe('cancelled');
  expect((await queue().getRepeatableJobs()).filter((r) => r.id === `relative-${id}`)).toEqual([]);
}, 60_000);

it('stops queuing at the budget cap and says so', async () => {
  await seedSubscribers(bed.running.infra.mongo.connection, bed.protection, { from: 6_400_000, count: 250, region: 'sikasso' });
  const text = 'Un passeur promet un travail en Europe ? C est un piege. Appelez le 80 00 11 11.';
  // One part at 20 a part (SMS_PRICE_PER_PART): 2,000 pays for 100 recipients.
  const id = await create({ name: 'capped', texts: { fr: text }, audience: { regions: ['sikasso'] }, budgetCap: 2_000 });
  const preview = await manager.call('POST', '/api/v1/campaigns/preview', { texts: { fr: text }, audience: { regions: ['sikasso'] } });
  expect(preview.json).toMatchObject({ languages: [{ language: 'fr', parts: 1, recipients: 250, cost: 5_000 }] });
  await schedule(id);
  const done = await eventually(() => view(id), (v) => v.status === 'completed', 30_000);
  expect(done.progress).toMatchObject({ recipients: 100, sent: 100, cost: 2_000 });
  expect(done.stoppedReason).toBe('Budget cap reached: 100 recipients queued');
  expect(numbersThatGot(text)).toHaveLength(100);
}, 60_000);

it('test-sends each language to staff numbers, marked [TEST], counting nowhere', async () => {
  const id = await create({ name: 'test first', texts: { fr: 'Ne confiez jamais vos papiers.', bm: 'I ka sebenw kana di mogo si ma.' } });
  const sent = await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: ['76 01 02 03', '+223 70 11 22 33'] });
  expect(sent.status).toBe(200);
  expect(sent.json).toEqual({ queued: 4, optedOut: 0 });
  await eventually(() => Promise.resolve(bed.fake.accepted.filter((sms) => sms.message.startsWith('[TEST] ')).length), (n) => n >= 4);
  const tests = bed.fake.accepted.filter((sms) => sms.message.startsWith('[TEST] ')).map((sms) => `${sms.number} ${sms.message}`).sort();
  expect(tests).toEqual([
    '+22370112233 [TEST] I ka sebenw kana di mogo si ma.',
    '+22370112233 [TEST] Ne confiez jamais vos papiers.',
    '+22376010203 [TEST] I ka sebenw kana di mogo si ma.',
    '+22376010203 [TEST] Ne confiez jamais vos papiers.',
  ]);
  expect(await view(id)).toMatchObject({ status: 'draft', progress: { recipients: 0, sent: 0 }, runs: [] });

  const bad = await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: ['not a phone'] });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.json)).toContain('not a valid phone number');
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: [] })).status).toBe(400);
});
