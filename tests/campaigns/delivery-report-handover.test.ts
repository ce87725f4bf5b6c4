import { deliveryReportKeys, startDeliveryReportApplier } from '../../src/campaigns/delivery-reports';
import { createMessageStore } from '../../src/campaigns/message-store';
import { createRunProgress } from '../../src/campaigns/run-progress';
import { parseConfig } from '../../src/config/config';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { captureLogger, testEnvironment } from '../support/test-env';

/**
 * Several workers take delivery reports from one Redis inbox. What a worker has taken and not yet
 * written is kept under its own name: if it dies, a live worker puts it back in the inbox; while it
 * lives, nobody else touches it (before, one worker's cleanup removed every worker's safety net).
 * Real Redis and the real database; the other workers' leftovers are written as they leave them.
 */
let running: RunningSafeline;
beforeAll(async () => {
  running = await startSafeline(parseConfig({ ...testEnvironment({}, 'handover'), SAFELINE_ROLE: 'api' }), captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
}, 60_000);
afterAll(() => running?.stop());

it('puts back what a dead worker had taken, leaves a live worker’s alone, and deregisters on stop', async () => {
  const redis = running.infra.redis.client;
  const prefix = running.infra.config.queuePrefix;
  const keys = deliveryReportKeys(prefix);
  const report = (id: string) => JSON.stringify({ id, status: 'Success', failureReason: '', at: new Date().toISOString() });
  const busyReport = report('ATXid_busy_1');
  await redis.multi().rpush(keys.taken('dead'), report('ATXid_dead_1'), report('ATXid_dead_2')).sadd(keys.appliers, 'dead').exec();
  await redis.multi().rpush(keys.taken('busy'), busyReport).sadd(keys.appliers, 'busy').set(keys.alive('busy'), '1', 'PX', 60_000).exec();
  await redis.rpush(keys.legacyTaken, report('ATXid_legacy_1'));

  const { logger, lines } = captureLogger('warn');
  const applier = startDeliveryReportApplier({ redis, prefix, messages: createMessageStore(running.infra.mongo.connection), progress: createRunProgress(redis, prefix), logger, now: () => new Date(), unknownAfterMs: 0, recoverEveryMs: 200 });
  await redis.rpush(keys.inbox, report('ATXid_new_1'));
  const reports = running.infra.mongo.connection.collection('delivery_reports');
  const stored = async (...ids: string[]) => reports.countDocuments({ _id: { $in: ids.map((id) => `${id}:Success`) } } as never);

  expect(await eventually(() => stored('ATXid_dead_1', 'ATXid_dead_2', 'ATXid_legacy_1', 'ATXid_new_1'), (n) => n === 4, 10_000)).toBe(4);
  expect(await redis.exists(keys.taken('dead'), keys.legacyTaken)).toBe(0);
  expect(await redis.sismember(keys.appliers, 'dead')).toBe(0);
  // The live worker's reports stayed where it put them, through this applier's own drains.
  expect(await redis.lrange(keys.taken('busy'), 0, -1)).toEqual([busyReport]);
  expect(await stored('ATXid_busy_1')).toBe(0);
  expect(lines().join('\n')).toContain('back in the inbox');

  // It stops answering: its heartbeat expires, and its reports are written by this one.
  await redis.del(keys.alive('busy'));
  expect(await eventually(() => stored('ATXid_busy_1'), (n) => n === 1, 10_000)).toBe(1);
  expect(await redis.sismember(keys.appliers, 'busy')).toBe(0);

  await applier.stop();
  expect(await redis.smembers(keys.appliers)).toEqual([]);
  expect(await redis.keys(`${prefix}:delivery-report-alive:*`)).toEqual([]);
}, 30_000);
