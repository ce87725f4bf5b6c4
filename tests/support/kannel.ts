import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isListening } from '../../src/dev-services/free-port';
import { kannelProblems, parseKannelStatus } from '../../src/gateway/kannel-status';
import type { SmscSimulator } from './smpp-simulator';

/*
 * Kannel 1.4.5 (Debian's `kannel`: bearerbox and smsbox) in front of SMSC simulators, for tests. What it
 * writes follows shared/reference/kannel-smpp.md: every SMSC group has allowed-smsc-id = its own id (else
 * messages leave over the wrong bind), both boxes run with -v 4 and log-level 3 into files the test can read
 * (bearerbox's warnings name the number of a message it cannot route, so 2 is not enough; at debug the console
 * carries numbers, texts and bind passwords), http-timeout is short (Kannel waits 240 s
 * for the app by default), max-messages = 0 on the MO service (Kannel sends no reply of its own). Ports are
 * checked free before start (a bearerbox that cannot open a port keeps running); both boxes stop by PID.
 */

/**
 * What a bind needs from an SMSC simulator; `serviceType` sets the group's service-type (USSD binds: "USSD"),
 * `throughput` its messages per second (Kannel's `throughput`; unset: as fast as the SMSC answers).
 */
export type SmscBind = Pick<SmscSimulator, 'name' | 'port' | 'systemId' | 'password'> & {
  readonly serviceType?: string;
  readonly throughput?: number;
};

export interface KannelOptions {
  /** The SMSCs bearerbox binds to, each its own smsc-id (the simulator's name). */
  readonly smscs: readonly SmscBind[];
  /** Groups appended to kannel.conf as they are (USSD's smpp-tlv groups and sms-service: tests/support/kannel-ussd.ts). */
  readonly extraConf?: string;
  /** MO SMS go here (Kannel's get-url, with its escape codes). */
  readonly moUrl: string;
  /** Scratch directory for kannel.conf, logs and the store. */
  readonly dir: string;
}

export interface RunningKannel {
  readonly sendsmsUrl: string;
  readonly adminUrl: string;
  readonly adminPassword: string;
  readonly username: string;
  readonly password: string;
  readonly dir: string;
  /** Kannel's status.txt, as text. */
  status(): Promise<string>;
  /** Everything both boxes logged (log files), for asserting that no number or text is in it. */
  logs(): string;
  /** The PIDs of the boxes running now (a bench reads their CPU time). */
  pids(): { readonly bearerbox: readonly number[]; readonly smsbox: readonly number[] };
  /**
   * Stops bearerbox only, cleanly (SIGTERM). Kannel 1.4.5's smsbox then shuts down too (bearerbox tells it to):
   * in production a supervisor (run_kannel_box, docker's restart policy) starts it again.
   */
  stopBearerbox(): Promise<void>;
  /**
   * Kills bearerbox (SIGKILL, a crash). smsbox stays up, keeps retrying and, about 11 s after a new bearerbox is
   * up, re-executes itself under a new PID and reconnects; until then sendsms refuses connections.
   */
  killBearerbox(): Promise<void>;
  /** Starts smsbox again (what a supervisor does after a clean bearerbox stop) and waits until sendsms answers. */
  startSmsbox(): Promise<void>;
  startBearerbox(): Promise<void>;
  stop(): Promise<void>;
}

/** Fails (never skips) when the machine lacks Kannel: `.ci/run` installs it. */
export function requireKannel(): void {
  const found = spawnSync('sh', ['-c', 'command -v bearerbox && command -v smsbox'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error('Kannel is not installed: bearerbox/smsbox missing. Install it with `apt-get install -y kannel` (as .ci/run does).');
  }
}

/** The Kannel configuration for these SMSCs and ports. */
export function kannelConf(options: {
  smscs: readonly SmscBind[];
  extraConf?: string;
  moUrl: string;
  dir: string;
  ports: { admin: number; smsbox: number; sendsms: number };
  adminPassword: string;
  username: string;
  password: string;
}): string {
  const q = (value: string | number): string => `"${String(value).replace(/"/g, '\\"')}"`;
  const core = [
    'group = core',
    `admin-port = ${options.ports.admin}`,
    `admin-password = ${q(options.adminPassword)}`,
    `status-password = ${q(options.adminPassword)}`,
    'admin-interface = "127.0.0.1"',
    'admin-allow-ip = "127.0.0.1"',
    `smsbox-port = ${options.ports.smsbox}`,
    'box-allow-ip = "127.0.0.1"',
    'dlr-storage = internal',
    'store-type = file',
    `store-location = ${q(join(options.dir, 'kannel.store'))}`,
    `log-file = ${q(join(options.dir, 'bearerbox.log'))}`,
    'log-level = 3',
    'http-timeout = 5',
  ];
  const smscs = options.smscs.flatMap((smsc) => [
    '',
    'group = smsc',
    'smsc = smpp',
    `smsc-id = ${q(smsc.name)}`,
    `allowed-smsc-id = ${q(smsc.name)}`,
    'host = "127.0.0.1"',
    `port = ${smsc.port}`,
    'transceiver-mode = true',
    `smsc-username = ${q(smsc.systemId)}`,
    `smsc-password = ${q(smsc.password)}`,
    'system-type = ""',
    'reconnect-delay = 1',
    'enquire-link-interval = 30',
    'log-level = 3',
    ...(smsc.serviceType ? [`service-type = ${q(smsc.serviceType)}`] : []),
    ...(smsc.throughput ? [`throughput = ${smsc.throughput}`] : []),
  ]);
  const smsbox = [
    '',
    'group = smsbox',
    'bearerbox-host = "127.0.0.1"',
    `bearerbox-port = ${options.ports.smsbox}`,
    `sendsms-port = ${options.ports.sendsms}`,
    'sendsms-interface = "127.0.0.1"',
    `log-file = ${q(join(options.dir, 'smsbox.log'))}`,
    'log-level = 3',
    'http-timeout = 5',
    // A dlr-url that fails is tried again (a safeline restart loses no receipt).
    'http-request-retry = 3',
    'http-queue-delay = 1',
    'mo-recode = true',
    '',
    'group = sendsms-user',
    `username = ${q(options.username)}`,
    `password = ${q(options.password)}`,
    'concatenation = true',
    'max-messages = 10',
    '',
    'group = sms-service',
    'keyword = default',
    'catch-all = true',
    `get-url = ${q(options.moUrl)}`,
    'max-messages = 0',
    'concatenation = true',
  ];
  return [...core, ...smscs, ...smsbox, ...(options.extraConf ? ['', options.extraConf] : []), ''].join('\n');
}

async function stopProcess(child: ChildProcess | undefined, name: string): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid) process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
  void name;
}

/** PIDs of the boxes running this kannel.conf (smsbox re-executes itself under a new PID after a lost bearerbox). */
function boxPids(box: 'bearerbox' | 'smsbox', confPath: string): number[] {
  const wanted = [box, '-v', '4', confPath].join('\0');
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '') === wanted;
    } catch {
      return false;
    }
  }).map(Number);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch((err: unknown) => (err instanceof Error && / exited /.test(err.message) ? Promise.reject(err) : false))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Kannel: ${what} not within ${timeoutMs} ms`);
}

/** True when status.txt shows every SMSC online and an smsbox connected. */
export const statusReady = (status: string, smscs: readonly string[]): boolean =>
  kannelProblems(parseKannelStatus(status), smscs).length === 0;

export async function startKannel(options: KannelOptions): Promise<RunningKannel> {
  requireKannel();
  mkdirSync(options.dir, { recursive: true });
  const ports = { admin: await freePort(), smsbox: await freePort(), sendsms: await freePort() };
  for (const port of Object.values(ports)) {
    if (await isListening('127.0.0.1', port)) throw new Error(`Kannel: port ${port} is taken`);
  }
  const adminPassword = randomBytes(8).toString('hex');
  const username = 'safeline';
  const password = randomBytes(8).toString('hex');
  const confPath = join(options.dir, 'kannel.conf');
  writeFileSync(
    confPath,
    kannelConf({
      smscs: options.smscs, extraConf: options.extraConf, moUrl: options.moUrl, dir: options.dir, ports, adminPassword, username, password,
    }),
  );
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const status = async (): Promise<string> => {
    const res = await fetch(`${adminUrl}/status.txt?password=${adminPassword}`, { signal: AbortSignal.timeout(1_000) });
    return res.text();
  };
  const spawnBox = (box: 'bearerbox' | 'smsbox'): ChildProcess => {
    const child = spawn(box, ['-v', '4', confPath], { stdio: 'ignore', cwd: options.dir });
    child.on('error', () => undefined);
    return child;
  };
  let bearerbox: ChildProcess | undefined;
  let smsbox: ChildProcess | undefined;
  const names = options.smscs.map((smsc) => smsc.name);
  const startBearerbox = async (): Promise<void> => {
    const box = spawnBox('bearerbox');
    bearerbox = box;
    await waitFor('bearerbox admin port', async () => {
      if (box.exitCode !== null) {
        throw new Error(`bearerbox exited (${box.exitCode}): see ${join(options.dir, 'bearerbox.log')} or run it with -v 0`);
      }
      return isListening('127.0.0.1', ports.admin);
    }, 10_000);
  };
  const stop = async (): Promise<void> => {
    await stopProcess(smsbox, 'smsbox');
    await stopProcess(bearerbox, 'bearerbox');
    // An smsbox that re-executed itself is no child of ours: stopped by the PID its kannel.conf names.
    for (const pid of boxPids('smsbox', confPath)) process.kill(pid, 'SIGKILL');
  };
  const startSmsbox = async (): Promise<void> => {
    smsbox = spawnBox('smsbox');
    await waitFor('SMSC binds online and smsbox connected', async () => statusReady(await status(), names), 20_000);
    await waitFor('smsbox sendsms port', () => isListening('127.0.0.1', ports.sendsms), 10_000);
  };
  try {
    await startBearerbox();
    await startSmsbox();
  } catch (err) {
    const last = await status().catch(() => '(status.txt unreadable)');
    await stop();
    throw new Error(`${(err as Error).message}; status.txt was:\n${last}`, { cause: err });
  }
  return {
    sendsmsUrl: `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms`,
    adminUrl,
    adminPassword,
    username,
    password,
    dir: options.dir,
    status,
    logs: () =>
      readdirSync(options.dir)
        .filter((name) => name.endsWith('.log'))
        .map((name) => readFileSync(join(options.dir, name), 'utf8'))
        .join('\n'),
    pids: () => ({ bearerbox: boxPids('bearerbox', confPath), smsbox: boxPids('smsbox', confPath) }),
    stopBearerbox: () => stopProcess(bearerbox, 'bearerbox'),
    async killBearerbox() {
      const box = bearerbox;
      if (!box?.pid || box.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => box.once('exit', () => resolve()));
      process.kill(box.pid, 'SIGKILL');
      await exited;
    },
    startSmsbox,
    startBearerbox,
    stop,
  };
}
