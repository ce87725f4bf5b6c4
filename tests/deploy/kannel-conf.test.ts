import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { kannelSettings, startKannel, type KannelSettings, type RunningKannel } from '../../src/dev-services/kannel';
import { startSmscSimulator, type SmscSimulator } from '../../src/dev-services/smpp-simulator';
import { readKannelInbound } from '../../src/gateway/kannel-inbound';
import { createKannelGateway } from '../../src/gateway/kannel-gateway';
import { eventually } from '../support/eventually';
import { testServices } from '../support/test-env';

/**
 * deploy/kannel/ as docker compose runs it, minus Docker (none on these machines): kannel-box renders the
 * templates from the environment, and the real bearerbox and smsbox start from the result, bound to two SMSC
 * simulators playing Orange and Malitel. Only the lines that name the container's paths, ports and compose's
 * host names are rewritten for this machine (each must be found as written). What the boxes do with the rest is
 * what a deployment gets: each bind online, each smsc-id routed over its own bind only, receipts to the dlr-url,
 * MO SMS to safeline's get-url with its token, no number or text in their logs.
 */
const root = join(__dirname, '../..');
const kannelBox = join(root, 'deploy/kannel/kannel-box.sh');
const token = 'deploy-test-token_0123456789';
let orange: SmscSimulator;
let malitel: SmscSimulator;
let kannel: RunningKannel;
let safeline: Server;
let safelineUrl: string;
const calls: string[] = [];
const dir = join(testServices().scratch, `deploy-kannel-${process.pid}-${Date.now()}`);
const redis = new URL(testServices().redisUrl);
/** Kannel's receipts map goes to database 1 as in compose, under a table of this run's own. */
const dlrTable = `kannel-dlr-deploy-${process.pid}`;
const kannelDb = new Redis(testServices().redisUrl, { db: 1, lazyConnect: true });

/** Runs kannel-box in render mode with this environment only. */
function render(env: Record<string, string>, out = join(dir, 'rendered')) {
  const result = spawnSync('sh', [kannelBox, 'render'], {
    env: { PATH: '/usr/bin:/bin', KANNEL_CONF_TEMPLATES: join(root, 'deploy/kannel'), KANNEL_CONF_DIR: out, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr, out };
}

const operatorEnv = (name: string, smsc: SmscSimulator): Record<string, string> => ({
  [`${name}_SMPP_HOST`]: '127.0.0.1',
  [`${name}_SMPP_PORT`]: String(smsc.port),
  [`${name}_SMPP_SYSTEM_ID`]: smsc.systemId,
  [`${name}_SMPP_PASSWORD`]: smsc.password,
  [`${name}_SMPP_SYSTEM_TYPE`]: '',
});

const accountEnv = (settings: KannelSettings): Record<string, string> => ({
  KANNEL_ADMIN_PASSWORD: settings.adminPassword,
  KANNEL_USERNAME: settings.username,
  KANNEL_PASSWORD: settings.password,
  SMS_CALLBACK_TOKEN: token,
});

/** The rendered kannel.conf with the container's paths, ports and host names made this machine's. */
function forThisMachine(conf: string, settings: KannelSettings, smscDir: string): string {
  const { ports } = settings;
  const lines: Array<[string, string]> = [
    ['admin-port = 13000', `admin-port = ${ports.admin}`],
    ['smsbox-port = 13001', `smsbox-port = ${ports.smsbox}`],
    ['bearerbox-port = 13001', `bearerbox-port = ${ports.smsbox}`],
    ['sendsms-port = 13013', `sendsms-port = ${ports.sendsms}`],
    ['bearerbox-host = "kannel"', 'bearerbox-host = "127.0.0.1"'],
    ['store-location = "/var/spool/kannel/kannel.store"', `store-location = "${join(settings.dir, 'kannel.store')}"`],
    ['log-file = "/var/log/kannel/bearerbox.log"', `log-file = "${join(settings.dir, 'bearerbox.log')}"`],
    ['log-file = "/var/log/kannel/smsbox.log"', `log-file = "${join(settings.dir, 'smsbox.log')}"`],
    ['include = "/run/kannel/smsc"', `include = "${smscDir}"`],
    ['host = "redis"', `host = "${redis.hostname}"`],
    ['port = 6379', `port = ${redis.port || 6379}`],
    ['table = "kannel-dlr"', `table = "${dlrTable}"`],
  ];
  let text = conf;
  for (const [from, to] of lines) {
    expect(text.split('\n').filter((line) => line === from)).toHaveLength(1);
    text = text.replace(from, to);
  }
  expect(text).toContain('get-url = "http://api:3000/sms/kannel/inbound?');
  return text.replace('get-url = "http://api:3000/', `get-url = "${safelineUrl}/`);
}

beforeAll(async () => {
  [orange, malitel] = await Promise.all([
    startSmscSimulator({ name: 'orange', receiptDelayMs: 20 }),
    startSmscSimulator({ name: 'malitel', receiptDelayMs: 20 }),
  ]);
  // safeline's place: takes the MO get-url and the dlr-url, answers 200 with an empty body as safeline does.
  safeline = createServer((req, res) => {
    calls.push(req.url ?? '');
    res.end();
  });
  await new Promise<void>((resolve) => safeline.listen(0, '127.0.0.1', resolve));
  safelineUrl = `http://127.0.0.1:${(safeline.address() as AddressInfo).port}`;
  const settings = await kannelSettings();
  const rendered = render({ ...accountEnv({ ...settings, dir }), ...operatorEnv('ORANGE', orange), ...operatorEnv('MALITEL', malitel) });
  expect(rendered).toMatchObject({ status: 0, stderr: '' });
  kannel = await startKannel({
    smscs: [orange, malitel],
    moUrl: '',
    dir: join(dir, 'kannel'),
    settings,
    renderConf: (got) => forThisMachine(readFileSync(join(rendered.out, 'kannel.conf'), 'utf8'), got, join(rendered.out, 'smsc')),
  });
}, 60_000);
afterAll(async () => {
  await kannel?.stop();
  await Promise.all([orange?.close(), malitel?.close()]);
  await new Promise((resolve) => safeline?.close(resolve));
  const keys = await kannelDb.keys(`${dlrTable}:*`);
  if (keys.length > 0) await kannelDb.del(...keys);
  kannelDb.disconnect();
});

describe('deploy/kannel/ with the real bearerbox and smsbox', () => {
  it('binds to each operator and routes each smsc-id over its own bind only; receipts reach the dlr-url', async () => {
    const status = await kannel.status();
    expect(status).toMatch(/orange\[orange\]\s+SMPP:127\.0\.0\.1:\d+\/\d+:\w+:\s*\(online/);
    expect(status).toMatch(/malitel\[malitel\]\s+SMPP:127\.0\.0\.1:\d+\/\d+:\w+:\s*\(online/);
    const gateway = (smsc: string) =>
      createKannelGateway({
        sendsmsUrl: kannel.sendsmsUrl, username: kannel.username, password: kannel.password, smsc, timeoutMs: 5_000, pricePerPart: 20,
        defaultFrom: 'SAFELINE', reportUrl: () => `${safelineUrl}/sms/kannel/delivery?token=${token}`,
      });
    const text = 'Un emploi trop beau a l etranger ? Parlez-en.';
    const [toMalitel] = await gateway('malitel').send({ to: ['+22360000101'], text });
    const [toOrange] = await gateway('orange').send({ to: ['+22370000102'], text });
    expect([toMalitel?.outcome, toOrange?.outcome]).toEqual(['accepted', 'accepted']);
    await eventually(() => Promise.resolve(malitel.received.length + orange.received.length), (count) => count === 2);
    expect(malitel.received.map((sms) => [sms.to, sms.from, sms.text])).toEqual([['22360000101', 'SAFELINE', text]]);
    expect(orange.received.map((sms) => [sms.to, sms.from, sms.text])).toEqual([['22370000102', 'SAFELINE', text]]);
    // An smsc-id no group allows is refused, not sent over another operator's bind.
    const [unknown] = await gateway('telecel').send({ to: ['+22350000103'], text });
    expect(unknown).toMatchObject({ outcome: 'permanent', statusCode: 403 });
    for (const sent of [toMalitel, toOrange]) {
      const receipts = await eventually(
        () => Promise.resolve(calls.filter((url) => url.startsWith('/sms/kannel/delivery?') && url.includes(`id=${sent?.messageId}&`))),
        (found) => found.some((url) => url.includes('type=1&')),
      );
      expect(receipts.some((url) => url.includes(`token=${token}&`) && url.includes('type=1&'))).toBe(true);
    }
    // bearerbox kept both messages' dlr-urls in Redis (a restart in between would not lose them) and removed
    // each when its final receipt came.
    await eventually(() => kannelDb.get(`${dlrTable}:Count`), (count) => count === '0');
    expect(await kannelDb.keys(`${dlrTable}:orange:*`)).toEqual([]);
  });

  it('brings each MO SMS to safeline\'s get-url with the token, in the fields /sms/kannel/inbound reads', async () => {
    await orange.sendMo({ from: '22370000104', to: '36000', text: 'STOP' });
    const inbound = () => Promise.resolve(calls.filter((url) => url.startsWith('/sms/kannel/inbound?')));
    const [call] = await eventually(inbound, (found) => found.length > 0);
    const query = (call ?? '').slice('/sms/kannel/inbound?'.length);
    expect(new URLSearchParams(query).get('token')).toBe(token);
    const read = readKannelInbound(query);
    expect(read).toMatchObject({ ok: true, sms: { from: '+22370000104', to: '36000', text: 'STOP', smsc: 'orange' } });
  });

  it('leaves no phone number and no message text in the boxes\' logs', () => {
    const logs = kannel.logs();
    for (const secret of ['60000101', '70000102', '70000104', 'etranger', 'STOP']) expect(logs).not.toContain(secret);
  });
});

describe('kannel-box', () => {
  const settings = { ports: { admin: 1, smsbox: 2, sendsms: 3 }, adminPassword: 'a', username: 'u', password: 'p', dir };
  const withOrange = () => ({ ...accountEnv(settings), ...operatorEnv('ORANGE', orange) });

  it('leaves out an operator whose host is empty, and says so', () => {
    const result = render({ ...withOrange(), MALITEL_SMPP_HOST: '' }, join(dir, 'orange-only'));
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('MALITEL_SMPP_HOST is empty: no malitel bind');
    expect(existsSync(join(result.out, 'smsc/orange.conf'))).toBe(true);
    expect(existsSync(join(result.out, 'smsc/malitel.conf'))).toBe(false);
  });

  it.each([
    ['an operator\'s password not set', { ORANGE_SMPP_PASSWORD: undefined }, 'ORANGE_SMPP_PASSWORD is not set (used by orange.conf)'],
    ['an empty sendsms password', { KANNEL_PASSWORD: '' }, 'KANNEL_PASSWORD is empty (used by kannel.conf)'],
    ['a double quote', { ORANGE_SMPP_PASSWORD: 'pa"ss' }, 'ORANGE_SMPP_PASSWORD must not contain a double quote or a newline'],
    ['a token that breaks the get-url', { SMS_CALLBACK_TOKEN: 'a&b=c' }, 'SMS_CALLBACK_TOKEN: letters, digits'],
  ])('stops before any box starts on %s, naming the variable', (_label, change: Record<string, string | undefined>, message) => {
    const given = (entry: [string, string | undefined]): entry is [string, string] => entry[1] !== undefined;
    const env = Object.fromEntries(Object.entries({ ...withOrange(), ...change }).filter(given));
    const result = render(env, join(dir, 'refused'));
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(message);
  });
});
