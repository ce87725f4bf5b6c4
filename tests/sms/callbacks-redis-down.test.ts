import { join } from 'node:path';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { eventually } from '../support/eventually';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/**
 * The SMS callbacks (AT's, and Kannel's dlr-url and get-url) with Redis really stopped (a redis-server of this test's own, on a free port):
 * each answers 503 within a second, so the gateway sends again later, instead of hanging while the
 * Redis client queues commands for when it is back. Once Redis is back they answer 200 again.
 */
let redis: RunningRedisServer | undefined;
let running: RunningSafeline;
let token: string;
const dir = join(testServices().scratch, `callbacks-redis-down-${process.pid}`);

beforeAll(async () => {
  redis = await startRedisServer({ dir });
  // The Kannel gateway's settings only serve its callbacks here: nothing is sent.
  const kannel = {
    SMS_GATEWAY: 'kannel', KANNEL_SENDSMS_URL: 'http://127.0.0.1:9/cgi-bin/sendsms', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p',
    KANNEL_SMSC: 'orange', KANNEL_ADMIN_URL: 'http://127.0.0.1:9', KANNEL_ADMIN_PASSWORD: 'p',
  };
  const config = testConfig({ REDIS_URL: redis.url, SAFELINE_ROLE: 'api', ...kannel });
  token = config.sms.callbackToken;
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await redis?.stop();
});

const callbacks: ReadonlyArray<[string, Record<string, string>]> = [
  ['/sms/delivery', { id: 'ATXid_while_redis_is_down', status: 'Success' }],
  ['/sms/inbound', { from: '+22376500001', to: '321', text: 'STOP', id: 'in-redis-down-1' }],
  ['/sms/optout', { phoneNumber: '+22376500002', senderId: 'SAFELINE' }],
  // Kannel's dlr-url and get-url: GET, the fields in the query.
  ['GET /sms/kannel/delivery', { id: 'kannel-while-redis-is-down', type: '1', status: 'stat:DELIVRD err:000' }],
  ['GET /sms/kannel/inbound', { from: '+22376500003', to: '321', text: 'STOP', id: 'kannel-in-redis-down-1', charset: 'UTF-8' }],
];
async function post(path: string, fields: Record<string, string>): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  // A hang shows as a status of 0 after 5 s rather than as a test timeout.
  const get = path.startsWith('GET ');
  const url = `${running.url}${path.replace(/^GET /, '')}?token=${token}${get ? `&${new URLSearchParams(fields).toString()}` : ''}`;
  const init = get
    ? {}
    : { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) };
  const status = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) })
    .then((res) => res.status)
    .catch(() => 0);
  return { status, ms: Date.now() - started };
}

it('answers 503 within a second on every SMS callback while Redis is down, and 200 once it is back', async () => {
  // The callbacks' connection opens with the process: they answer 200 once it is up.
  for (const [path, fields] of callbacks) expect(await eventually(async () => (await post(path, fields)).status, (status) => status === 200, 10_000)).toBe(200);
  const port = redis?.port ?? 0;
  await redis?.stop();

  for (const [path, fields] of callbacks) {
    const answer = await post(path, fields);
    expect({ path, status: answer.status }).toEqual({ path, status: 503 });
    expect(answer.ms).toBeLessThan(1_000);
  }

  redis = await startRedisServer({ dir, port });
  for (const [path, fields] of callbacks) {
    expect(await eventually(async () => (await post(path, fields)).status, (status) => status === 200, 15_000)).toBe(200);
  }
}, 60_000);
