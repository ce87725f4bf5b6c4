import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isListening } from './free-port';
import { kannelProblems, parseKannelStatus } from '../gateway/kannel-status';
import type { SmscSimulator } from './smpp-simulator';

/*
 * Kannel 1.4.5 (Debian's `kannel`: bearerbox and smsbox) in front of SMSC simulators, for tests and for
 * `SMS_GATEWAY=kannel npm run dev` (dev-kannel.ts). What it writes follows shared/reference/kannel-smpp.md: every
 * SMSC group has allowed-smsc-id = its own id (else messages leave over the wrong bind), both boxes run with -v 4
 * and log-level 3 into files one can read (bearerbox's warnings name the number of a message it cannot route, so 2
 * is not enough; at debug the console carries numbers, texts and bind passwords), http-timeout is short (Kannel
 * waits 240 s for the app by default), max-messages = 0 on the MO service (Kannel sends no reply of its own).
 * Ports are checked free before start (a bearerbox that cannot open a port keeps running); both boxes stop by PID.
 */

/**
 * What a bind needs from an SMSC simulator; `serviceType` sets the group's service-type (USSD binds: "USSD"),
 * `throughput` its messages per second (Kannel's `throughput`; unset: as fast as the SMSC answers).
 */
export type SmscBind = Pick<SmscSimulator, 'name' | 'port' | 'systemId' | 'password'> & {
  readonly serviceType?: string;
  readonly throughput?: number;
};

export interface KannelPorts {
  readonly admin: number;
  readonly smsbox: number;
  readonly sendsms: number;
}

/** What a kannel.conf must agree on with the boxes' harness: its ports, passwords and scratch directory. */
export interface KannelSettings {
  readonly ports: KannelPorts;
  readonly adminPassword: string;
  readonly username: string;
  readonly password: string;
  readonly dir: string;
}

/**
 * Kannel's `dlr-storage = redis`: one hash per message awaiting its receipt, `<table>:<smsc>:<message id>`, removed
 * when the final receipt comes or after `ttlSeconds`, and a counter `<table>:Count`. A database of its own:
 * Kannel's admin command flush-dlr runs FLUSHDB on it.
 */
export interface KannelDlrRedis {
  readonly host: string;
  readonly port: number;
  readonly database: number;
  readonly table: string;
  readonly ttlSeconds: number;
}

export interface KannelOptions {
  /** The SMSCs bearerbox binds to, each its own smsc-id (the simulator's name). */
  readonly smscs: readonly SmscBind[];
  /** Groups appended to kannel.conf as they are (USSD's smpp-tlv groups and sms-service: tests/support/kannel-ussd.ts). */
  readonly extraConf?: string;
  /** MO SMS go here (Kannel's get-url, with its escape codes). */
  readonly moUrl: string;
  /** Scratch directory for kannel.conf, logs and the store. */
  readonly dir: string;
  /** Ports and passwords chosen beforehand (npm run dev tells safeline before Kannel starts); else free ports, random passwords. */
  readonly settings?: Omit<KannelSettings, 'dir'>;
  /** Another kannel.conf than kannelConf()'s (tests/deploy: deploy/kannel/'s, rendered for these settings). */
  readonly renderConf?: (settings: KannelSettings) => string;
  /** Where bearerbox keeps its message-id-to-dlr-url map; without it, in memory (a restart forgets in-flight receipts). */
  readonly dlrRedis?: KannelDlrRedis;
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

/** Fails (tests never skip) when the machine lacks Kannel: `.ci/run` installs it. */
export function requireKannel(): void {
  const found = spawnSync('sh', ['-c', 'command -v bearerbox && command -v smsbox'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error('Kannel is not installed (bearerbox and smsbox not found): install it with `apt-get install -y kannel`.');
  }
}

/** The MO get-url safeline's /sms/kannel/inbound reads, with Kannel's escape codes (README, "Gateways"). */
export const kannelInboundUrl = (safelineUrl: string, token: string): string =>
  `${safelineUrl.replace(/\/$/, '')}/sms/kannel/inbound?token=${encodeURIComponent(token)}` +
  '&from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I';

/** The Kannel configuration for these SMSCs and ports. */
export function kannelConf(
  options: KannelSettings & { smscs: readonly SmscBind[]; extraConf?: string; moUrl: string; dlrRedis?: KannelDlrRedis },
): string {
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
    ...(options.dlrRedis ? ['dlr-storage = redis'] : ['dlr-storage = internal']),
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
  return [...core, ...dlrRedisGroups(options.dlrRedis), ...smscs, ...smsbox, ...(options.extraConf ? ['', options.extraConf] : []), '']
    .join('\n');
}

/** The groups `dlr-storage = redis` reads (Kannel 1.4.5, gw/dlr_redis.c): the connection and the hash's field names. */
function dlrRedisGroups(dlr: KannelDlrRedis | undefined): string[] {
  if (!dlr) return [];
  return [
    '', 'group = redis-connection', 'id = dlr', `host = "${dlr.host}"`, `port = ${dlr.port}`, `database = ${dlr.database}`,
    'max-connections = 2',
    '', 'group = dlr-db', 'id = dlr', `table = "${dlr.table}"`, `ttl = ${dlr.ttlSeconds}`, 'field-smsc = smsc', 'field-timestamp = ts',
    'field-destination = destination', 'field-source = source', 'field-service = service', 'field-url = url', 'field-mask = mask',
    'field-status = status', 'field-boxc-id = boxc',
  ];
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

/** Stops boxes an earlier run left on this kannel.conf (a dev process killed with SIGKILL): they hold its ports. */
async function stopLeftovers(confPath: string): Promise<void> {
  const left = (): number[] => [...boxPids('smsbox', confPath), ...boxPids('bearerbox', confPath)];
  for (const pid of left()) process.kill(pid, 'SIGKILL');
  await waitFor('boxes of an earlier run to exit', () => Promise.resolve(left().length === 0), 5_000);
}

/** Free ports, unless those asked for are free. */
async function portsFor(wanted: Partial<KannelPorts> = {}): Promise<KannelPorts> {
  const pick = async (port: number | undefined): Promise<number> =>
    port && !(await isListening('127.0.0.1', port)) ? port : freePort();
  return { admin: await pick(wanted.admin), smsbox: await pick(wanted.smsbox), sendsms: await pick(wanted.sendsms) };
}

/** Ports and passwords for a Kannel to start later (npm run dev gives them to safeline's configuration first). */
export async function kannelSettings(wanted: Partial<KannelPorts> = {}): Promise<Omit<KannelSettings, 'dir'>> {
  const secret = (): string => randomBytes(8).toString('hex');
  return { ports: await portsFor(wanted), adminPassword: secret(), username: 'safeline', password: secret() };
}

export async function startKannel(options: KannelOptions): Promise<RunningKannel> {
  requireKannel();
  mkdirSync(options.dir, { recursive: true });
  const confPath = join(options.dir, 'kannel.conf');
  await stopLeftovers(confPath);
  const { ports, adminPassword, username, password } = options.settings ?? (await kannelSettings());
  for (const port of [ports.admin, ports.smsbox, ports.sendsms]) {
    if (await isListening('127.0.0.1', port)) throw new Error(`Kannel: port ${port} is taken`);
  }
  const settings: KannelSettings = { ports, adminPassword, username, password, dir: options.dir };
  writeFileSync(
    confPath,
    options.renderConf?.(settings) ??
      kannelConf({ ...settings, smscs: options.smscs, extraConf: options.extraConf, moUrl: options.moUrl, dlrRedis: options.dlrRedis }),
    { mode: 0o600 },
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
