import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config';
import { planDevKannel, wantsDevKannel, type DevKannelChain } from '../../src/dev-services/dev-kannel';
import { freePort } from '../../src/dev-services/free-port';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { eventually } from '../support/eventually';
import { seedSubscribers } from '../support/seed-subscribers';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testEnvironment, testServices } from '../support/test-env';

/**
 * `SMS_GATEWAY=kannel npm run dev`'s chain, started by the code dev.ts runs (planDevKannel, then start) with
 * config/routes.example.yaml: two simulated operators (orange, malitel) behind Debian's bearerbox and smsbox. Then
 * the dev command itself: it starts the chain, is ready with the binds online, and leaves no box behind on SIGTERM;
 * without Kannel installed it says how to install it.
 */
const root = join(__dirname, '../..');
const { logger } = captureLogger('info');
const admin = staffClient(() => running.url);
const manager = staffClient(() => running.url);
let chain: DevKannelChain;
let running: RunningSafeline;

/** PIDs of bearerbox and smsbox processes running a kannel.conf under this directory. */
const boxesUnder = (dir: string): number[] =>
  readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return /^(bearerbox|smsbox)\0/.test(cmdline) && cmdline.includes(dir);
    } catch {
      return false;
    }
  }).map(Number);

describe('the dev chain: simulated operators behind Kannel', () => {
  const dataDir = join(testServices().scratch, `dev-kannel-${process.pid}-${Date.now()}`);

  beforeAll(async () => {
    const env = testEnvironment({ SMS_GATEWAY: 'kannel', SMS_ROUTES_FILE: join(root, 'config/routes.example.yaml'), LOG_LEVEL: 'info' });
    expect(wantsDevKannel(env)).toBe(true);
    const plan = await planDevKannel(env, dataDir);
    expect(plan.smscs).toEqual(['orange', 'malitel']);
    expect(plan.env.PORT).not.toBe('0');
    chain = await plan.start();
    running = await startSafeline(parseConfig({ ...env, ...plan.env }), logger, [...modules, chain.module]);
    await running.infra.mongo.opened;
    const staff = createStaffStore(running.infra.mongo.connection);
    await createStaff(staff, [['admin@safeline.test', ['admin']], ['manager@safeline.test', ['campaign_manager']]]);
    expect((await admin.signIn('admin@safeline.test')).status).toBe(200);
    expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await chain?.stop();
  });

  it('carries a campaign to each operator over its own bind, and the receipts back; the console shows what each received', async () => {
    const protection = createPhoneProtection(running.infra.config.secrets);
    const [orangeNumber = ''] = await seedSubscribers(running.infra.mongo.connection, protection, { from: 1, count: 1, prefix: '+2237' });
    const [malitelNumber = ''] = await seedSubscribers(running.infra.mongo.connection, protection, { from: 2, count: 1, prefix: '+2236' });
    const text = 'Un emploi trop beau a l etranger ? Parlez-en avant de partir.';
    const created = await manager.call('POST', '/api/v1/campaigns', {
      axis: 'prevention', sendWindow: { from: '00:00', to: '00:00' }, name: 'dev chain', texts: { fr: text },
      audience: { regions: ['bamako'] },
    });
    expect(created.status).toBe(200);
    const id = String(created.json._id);
    expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
    type View = { status: string; progress: { sent: number; delivered: number; failed: number } };
    const done = await eventually(
      async () => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as View,
      (view) => view.status === 'completed' && view.progress.delivered === 2,
      20_000,
    );
    expect(done.progress).toMatchObject({ sent: 2, delivered: 2, failed: 0 });
    const [orange, malitel] = chain.simulators;
    expect(orange?.received.map((sms) => [sms.to, sms.from, sms.text])).toEqual([[orangeNumber.slice(1), 'SAFELINE', text]]);
    expect(malitel?.received.map((sms) => [sms.to, sms.from, sms.text])).toEqual([[malitelNumber.slice(1), 'SAFELINE', text]]);

    const rows = await eventually(
      async () => (await admin.call('GET', '/console/sms-emulator/rows')).text,
      (html) => (html.match(/<tr>/g) ?? []).length === 2,
    );
    expect(rows).toContain('<td>+223******01</td><td>SAFELINE</td><td>orange</td><td>1</td>');
    expect(rows).toContain('<td>+223******02</td><td>SAFELINE</td><td>malitel</td><td>1</td>');
    expect(rows).toContain(text);
    expect(rows).not.toContain(orangeNumber);
    const page = await admin.call('GET', '/console/sms-emulator');
    expect(page.text).toMatch(/simulated operators|opérateurs simulés/);
    // An operator cannot know what a message is for: a campaign manager sees none of it, and is told why.
    const managerPage = await manager.call('GET', '/console/sms-emulator');
    expect(managerPage.text).not.toContain(text);
    expect(managerPage.text).toMatch(/admins only|qu'aux administrateurs/);

    const kannelLogs = chain.kannel.logs();
    for (const secret of [orangeNumber.slice(4), malitelNumber.slice(4), 'etranger']) expect(kannelLogs).not.toContain(secret);
  }, 40_000);
});

describe('npm run dev with SMS_GATEWAY=kannel', () => {
  const dev = (env: Record<string, string>) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/cli/dev.ts'], {
      cwd: root, env: { HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  };

  it('starts Kannel and the simulated operator, is ready with its bind online, and stops them on SIGTERM', async () => {
    const dataDir = join(testServices().scratch, `dev-cli-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const env = testEnvironment({ SMS_GATEWAY: 'kannel', LOG_LEVEL: 'info', PORT: String(port), DATA_DIR: dataDir });
    const run = dev({ ...(env as Record<string, string>), PATH: process.env.PATH ?? '' });
    try {
      const ready = await eventually(
        () => fetch(`http://127.0.0.1:${port}/readyz`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN ?? ''}` } })
          .then(async (res) => ({ status: res.status, body: await res.text() }), () => ({ status: 0, body: '' })),
        (reply) => reply.status === 200,
        25_000,
      );
      expect(ready).toEqual({ status: 200, body: expect.stringContaining('"kannel":"up"') as unknown });
      expect(boxesUnder(dataDir)).toHaveLength(2);
      expect(run.output()).toContain('simulated operators');
      expect(run.output()).toContain('operator on 127.0.0.1:');
      expect(run.output()).toContain('/console/sms-emulator');
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(boxesUnder(dataDir)).toEqual([]);
    // The passwords Kannel was given stay in its kannel.conf, out of the log.
    const conf = readFileSync(join(dataDir, 'kannel', 'kannel.conf'), 'utf8');
    const password = /^password = "(\w+)"$/m.exec(conf)?.[1] ?? 'missing';
    expect(run.output()).not.toContain(password);
  }, 40_000);

  it('says how to install Kannel when bearerbox and smsbox are not found, before starting anything', async () => {
    const dataDir = join(testServices().scratch, `dev-nokannel-${process.pid}-${Date.now()}`);
    // Debian puts the boxes in /usr/sbin; node is in /usr/bin.
    const env = testEnvironment({ SMS_GATEWAY: 'kannel', DATA_DIR: dataDir }) as Record<string, string>;
    const run = dev({ ...env, PATH: '/usr/bin:/bin' });
    expect(await run.exited).toBe(69);
    expect(run.output()).toContain('Kannel is not installed');
    expect(run.output()).toContain('apt-get install -y kannel');
  }, 20_000);
});
