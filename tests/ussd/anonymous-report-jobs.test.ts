import { randomUUID } from 'node:crypto';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createCallerProfiles } from '../../src/ussd/caller-profiles';
import { FLOW_EVENTS_QUEUE, type FlowEventJob } from '../../src/ussd/apply-flow-events';
import { startOutboxRelay } from '../../src/ussd/outbox-relay';
import { ussdModule } from '../../src/ussd/ussd-module';
import { eventually } from '../support/eventually';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

// The api role only: this test runs the relay and a processor of its own over the real Bull queue,
// so that one job fails for good and another completes, and reads what Redis kept of each.
let running: RunningSafeline;
const seen: string[] = [];

beforeAll(async () => {
  running = await startSafeline(testConfig({ SAFELINE_ROLE: 'api' }), captureLogger('warn').logger, [ussdModule]);
  await running.infra.mongo.opened;
});
afterAll(() => running.stop());

/** Every key of the flow-event queue in Redis, with its whole content. */
async function queueContents(prefix: string): Promise<string> {
  const redis = running.infra.redis.client;
  const keys = await redis.keys(`${prefix}:${FLOW_EVENTS_QUEUE}:*`);
  const parts: string[] = [...keys];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
    if (type === 'zset' || type === 'set') parts.push(...(type === 'zset' ? await redis.zrange(key, 0, -1) : await redis.smembers(key)));
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
  }
  return parts.join('\n');
}

it('leaves no AT session id nor anything linking to the phone in an anonymous report\u2019s jobs, failed or completed', async () => {
  const { infra } = running;
  const prefix = infra.config.queuePrefix;
  const queue = infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE);
  const relay = startOutboxRelay(infra.redis.client, `${prefix}:ussd:outbox`, queue, infra.logger);
  void queue.process(1, async (job) => {
    seen.push(JSON.stringify(job.toJSON()) + (await queueContents(prefix)));
    if (seen.length === 1) {
      await job.discard();
      throw new Error('forced failure');
    }
  });

  const phone = '+22372000001';
  const phoneHash = createPhoneProtection(infra.config.secrets).hash(phone);
  // A caller whose language is known: no language menu, so the report is the session's only event.
  await createCallerProfiles(infra.mongo.connection).setLanguage(phoneHash, 'en', 'earlier-session', new Date());
  const sessions = [`ATUid_${randomUUID()}`, `ATUid_${randomUUID()}`];
  for (const sessionId of sessions) {
    const call = caller(running.url, infra.config.ussd.callbackToken, phone, sessionId);
    let reply = await call.dial();
    // Report, migration, Gao, urgent, no callback.
    for (const input of ['2', '6', '8', '2', '2']) reply = await call.type(input);
    expect(reply.body).toMatch(/^END /);
  }
  await eventually(() => Promise.resolve(seen.length), (n) => n >= 2);
  await relay.stop();
  const failed = await eventually(() => queue.getFailed(), (jobs) => jobs.length === 1);
  expect(failed).toHaveLength(1);
  expect(failed[0]?.failedReason).toBe('forced failure');
  expect(failed[0]?.data.event.type).toBe('report.created');
  expect(failed[0]?.data).toMatchObject({ sessionId: '', phoneHash: '', phoneSealed: '' });

  const kept = [...seen, await queueContents(prefix)].join('\n');
  for (const sessionId of sessions) expect(kept).not.toContain(sessionId.slice(6));
  expect(kept).not.toContain(phoneHash);
  expect(kept).not.toContain(phone.slice(4));
});
