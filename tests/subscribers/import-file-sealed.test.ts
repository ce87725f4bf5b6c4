import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createAuditLog } from '../../src/staff/audit-log';
import { createSubscriberImports } from '../../src/subscribers/subscriber-imports';
import { createStaffStore } from '../../src/staff/staff-store';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

/** An uploaded file waits in Redis for its job only sealed, and not even that once the job ends, well or not. */
let running: RunningSafeline;
const manager = staffClient(() => running.url);
beforeAll(async () => {
  running = await startSafeline(testConfig(), captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
});
afterAll(() => running.stop());

/** Every value under this safeline's prefix, whatever the key's type. */
async function everythingInRedis(): Promise<string> {
  const redis = running.infra.redis.client;
  const values: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${running.infra.config.queuePrefix}:*`, 'COUNT', 1_000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') values.push((await redis.get(key)) ?? '');
      else if (type === 'list') values.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'hash') values.push(...Object.values(await redis.hgetall(key)));
      else if (type === 'set') values.push(...(await redis.smembers(key)));
      else if (type === 'zset') values.push(...(await redis.zrange(key, 0, -1)));
      values.push(key);
    }
  } while (cursor !== '0');
  return values.join('\n');
}

// The numbers as the file has them; the rows' E.164 forms too. Base64 and hex cannot hold "+2237".
const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => `+2237${String(from + i).padStart(7, '0')},fr,partner list`);
const clearNumbers = (text: string) => text.match(/\+2237\d{7}|(?<![\dA-Za-z+/])7\d{7}(?!\d)/g) ?? [];

async function importWatched(csv: string): Promise<{ id: string; state: string; samples: number; leaks: string[]; fileLeft: number }> {
  const res = await manager.call('POST', '/api/v1/subscribers/imports?filename=list.csv', csv, { 'content-type': 'text/csv' });
  expect(res.status).toBe(202);
  const id = String(res.json.importId);
  const fileKey = `${running.infra.config.queuePrefix}:subscriber-import:${id}:file`;
  let state = 'queued';
  let samples = 0;
  const leaks: string[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    state = String((await manager.call('GET', `/api/v1/subscribers/imports/${id}`)).json.state);
    leaks.push(...clearNumbers(await everythingInRedis()));
    samples += 1;
    if (state === 'done' || state === 'failed') break;
  }
  leaks.push(...clearNumbers(await everythingInRedis()));
  return { id, state, samples, leaks: [...new Set(leaks)].slice(0, 3), fileLeft: await running.infra.redis.client.exists(fileKey) };
}

it('keeps no clear number in Redis during and after an import that succeeds', async () => {
  const csv = ['phone,language,consent_source', ...rows(9_100_000, 4_000)].join('\n');
  const watched = await importWatched(csv);
  expect(watched).toMatchObject({ leaks: [], fileLeft: 0, state: 'done' });
}, 90_000);

it('keeps no clear number in Redis during and after an import that fails, and removes the sealed file', async () => {
  // 3,000 good rows, then a quote that never closes: the parser gives up there.
  const csv = ['phone,language,consent_source', ...rows(9_200_000, 3_000), '+22379300000,fr,"never closed'].join('\n');
  const watched = await importWatched(csv);
  expect(watched).toMatchObject({ leaks: [], fileLeft: 0, state: 'failed' });
  const entry = (await createAuditLog(running.infra.mongo.connection).list({ action: 'subscribers.imported' })).find((e) => e.target === watched.id);
  expect(entry?.details).toMatchObject({ state: 'failed', file: 'list.csv' });
}, 90_000);

it('keeps the waiting file as sealed pieces with a day to live, which unseal to the file', async () => {
  const redis = running.infra.redis.client;
  const prefix = `${running.infra.config.queuePrefix}:waiting`;
  const protection = createPhoneProtection(running.infra.config.secrets);
  const queued: unknown[] = [];
  const imports = createSubscriberImports(redis, prefix, { add: (job: unknown) => Promise.resolve(void queued.push(job)) } as never, protection);
  const csv = ['phone,language,consent_source', ...rows(9_400_000, 30_000)].join('\n');
  const id = await imports.start(csv, { actor: 'someone', fileName: 'a.csv', ip: '' });
  const key = `${prefix}:subscriber-import:${id}:file`;
  expect(await redis.llen(key)).toBeGreaterThan(1);
  expect(await redis.ttl(key)).toBeGreaterThan(86_000);
  expect(clearNumbers(await everythingInRedis())).toEqual([]);
  let text = '';
  for await (const piece of (await imports.file(id)) ?? []) text += piece;
  expect(text).toBe(csv);
  await imports.dropFile(id);
  expect(await redis.exists(key)).toBe(0);
});
