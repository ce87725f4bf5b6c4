/**
 * One campaign of bench:campaign end to end, whatever the gateway: subscribers seeded into a database of their
 * own, safeline as deployed (an api and a worker process, the image's NODE_OPTIONS) with the gateway's variables,
 * a manager who signs in, creates the campaign and schedules it, and the campaign's page polled until every
 * recipient is sent and every report applied. What it measures: the phases' times, the CPU time of every process
 * involved (safeline's two, the gateway's, the store's, Redis, this process), resident memory by phase.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Db } from 'mongodb';
import { generateSecrets } from '../src/config/generated-secrets';
import { parseConfig } from '../src/config/config';
import { freePort } from '../src/dev-services/free-port';
import { createPhoneProtection } from '../src/shared/phone-protection';
import { hashPassword } from '../src/staff/passwords';
import type { BenchGateway } from './campaign-gateways';
import {
  DEPLOYED_NODE_OPTIONS, postgresClusterCpuMs, processCpuMs, redisCpuMs, startSafelineProcess, waitReady, withTimeout, type SafelineProcess,
} from './support';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const BATCH = 100;
export const TEXT = 'Un emploi trop beau a l etranger ? Verifiez avant de partir. Appelez le 80 00 11 11.';

const IDLE_SAMPLE_MS = 5_000;

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
export const seconds = (ms: number): number => round(ms / 1_000, 1);
const statusMb = (pid: number, field: 'VmHWM' | 'VmRSS'): number =>
  round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1_024, 1);
export const peakRssMb = (pid: number): number => statusMb(pid, 'VmHWM');

/** The machine's CPU time, busy and in all, from /proc/stat's first line (every process, ours and others'). */
function machineCpu(): { busy: number; total: number } {
  const ticks = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((sum, tick) => sum + tick, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle, iowait
  return { busy: total - idle, total };
}
const busyShare = (before: { busy: number; total: number }, after: { busy: number; total: number }): number =>
  round((after.busy - before.busy) / Math.max(1, after.total - before.total));

export interface StoreCpu {
  mongoServer: number;
  postgres: number;
  total: number;
}
/** The store's CPU: the mongo-server process and the whole PostgreSQL cluster under it (see postgresClusterCpuMs). */
export const storeCpu = (mongoPid: number): StoreCpu => {
  const mongoServer = processCpuMs(mongoPid) ?? 0;
  const postgres = postgresClusterCpuMs() ?? 0;
  return { mongoServer, postgres, total: mongoServer + postgres };
};
export const storeCpuSince = (mongoPid: number, before: StoreCpu): StoreCpu => {
  const now = storeCpu(mongoPid);
  return { mongoServer: now.mongoServer - before.mongoServer, postgres: now.postgres - before.postgres, total: now.total - before.total };
};
export const perRecipient = (cpu: StoreCpu, recipients: number): StoreCpu => {
  const us = (ms: number): number => round((ms * 1_000) / recipients);
  return { mongoServer: us(cpu.mongoServer), postgres: us(cpu.postgres), total: us(cpu.total) };
};

/** The run's secrets and the seeded audience: `recipients` opted-in French subscribers (+2237..., sealed with these secrets). */
export async function seedSubscribers(db: Db, mongoUri: string, recipients: number): Promise<ReturnType<typeof generateSecrets>> {
  const secrets = generateSecrets();
  const protection = createPhoneProtection(parseConfig({ ...secrets, MONGODB_URI: `${mongoUri}${db.databaseName}` }).secrets);
  const at = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < recipients; i += 1_000) {
    const docs = Array.from({ length: Math.min(1_000, recipients - i) }, (_, j) => {
      const phone = `+2237${String(1_000_000 + i + j).padStart(7, '0')}`;
      return {
        _id: protection.hash(phone) as never, phoneSealed: protection.encrypt(phone), language: 'fr', region: 'bamako',
        topics: ['migration'], consent: { status: 'opted_in', source: 'import', at, evidence: 'bench' }, createdAt: at, updatedAt: at,
        flagged: null,
      };
    });
    await db.collection('subscribers').insertMany(docs, { ordered: false });
  }
  return secrets;
}

export interface CampaignRunOptions {
  readonly recipients: number;
  /** The database the subscribers were seeded into, on the mongo-server at `mongoUri` (pid `mongoPid`). */
  readonly db: Db;
  readonly mongoUri: string;
  readonly mongoPid: number;
  readonly secrets: ReturnType<typeof generateSecrets>;
  readonly redis: Redis;
  readonly queuePrefix: string;
  /** Starts the gateway, given where the api listens and the callback token. */
  gateway(apiUrl: string, token: string): Promise<BenchGateway>;
  readonly timeoutMinutes: number;
  /** Each process's V8 GC trace into bench/results/campaign-<role>-gc.log. */
  readonly traceGc?: boolean;
}

type Phase = 'idle' | 'fanOut' | 'sending' | 'reports';
type Progress = { recipients: number; sent: number; failed: number; delivered: number; unknown: number; optedOut: number };

export interface CampaignRun {
  readonly apiUrl: string;
  readonly gateway: BenchGateway;
  readonly processes: { readonly api: SafelineProcess; readonly worker: SafelineProcess };
  readonly marks: { fanOut?: number; sent?: number; reports?: number };
  readonly wallMs: number;
  readonly final: Progress | undefined;
  /** CPU ms over the campaign, by process; `bench` is this process (the poller, the fake or the SMPP simulator). */
  readonly cpuMs: Record<string, number>;
  /** The same from the schedule until every recipient was sent (the phase where a full-speed run is busiest). */
  readonly cpuMsWhileSending: Record<string, number>;
  /** Share (0..1) of the machine's CPU busy, every process counted (other work on the machine too). */
  readonly machineBusy: { readonly wholeRun: number; readonly whileSending: number };
  /** CPU ms per second of safeline's and the gateway's processes in the 5 s before the campaign, idle. */
  readonly idleMsPerSecond: Record<string, number>;
  readonly store: StoreCpu;
  readonly rssMbByPhase: Record<'api' | 'worker', Record<Phase, number>>;
  /** Reports the api refused (429) past DELIVERY_REPORT_MAX_UNKNOWN_PER_MINUTE: their gateway had to send them again. */
  readonly reportsRefused: number;
}

async function signIn(apiUrl: string): Promise<(method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>> {
  const jar: string[] = [];
  let csrf = '';
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const headers = { cookie: jar.join('; '), 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) };
    const res = await fetch(`${apiUrl}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    for (const cookie of res.headers.getSetCookie()) jar.push(cookie.split(';')[0] ?? '');
    return (await res.json()) as Record<string, unknown>;
  };
  await fetch(`${apiUrl}/console/login`).then((res) => jar.push(...res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '')));
  csrf = /sl_csrf=([^;]+)/.exec(jar.join('; '))?.[1] ?? '';
  const me = await call('POST', '/api/v1/auth/login', { email: 'bench@safeline.test', password: 'bench-manager-password' });
  csrf = String(me.csrfToken);
  return call;
}

export async function runCampaign(options: CampaignRunOptions): Promise<CampaignRun> {
  const { recipients, db, secrets, redis } = options;
  const hash = await hashPassword('bench-manager-password', 2 ** 12);
  await db.collection('staff_users').insertOne({
    _id: 'bench-manager' as never, email: 'bench@safeline.test', name: 'bench', passwordHash: hash, roles: ['campaign_manager'],
    disabled: false, createdAt: new Date(),
  });

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const gateway = await options.gateway(apiUrl, secrets.SMS_CALLBACK_TOKEN);
  const env = {
    ...process.env, NODE_OPTIONS: DEPLOYED_NODE_OPTIONS, ...secrets, MONGODB_URI: `${options.mongoUri}${db.databaseName}`, REDIS_URL,
    QUEUE_PREFIX: options.queuePrefix, HOST: '127.0.0.1', CALLBACK_ALLOWED_IPS: '127.0.0.1,::1', LOG_LEVEL: 'warn',
    SMS_MAX_PER_SECOND: '100000', CAMPAIGN_BATCH_SIZE: String(BATCH), ...gateway.env,
  };
  const start = (role: 'api' | 'worker', port: number): SafelineProcess => {
    if (options.traceGc) mkdirSync(join(__dirname, 'results'), { recursive: true });
    const trace = options.traceGc ? { nodeArgs: ['--trace-gc'], stdoutFile: join(__dirname, 'results', `campaign-${role}-gc.log`) } : {};
    return startSafelineProcess(role, { ...env, PORT: String(port) }, trace);
  };
  const api = start('api', apiPort);
  const workerPort = await freePort();
  const worker = start('worker', workerPort);
  await Promise.all([waitReady(apiUrl), waitReady(`http://127.0.0.1:${workerPort}`)]);

  const call = await signIn(apiUrl);
  const campaign = { name: 'bench', axis: 'prevention', texts: { fr: TEXT }, sendWindow: { from: '00:00', to: '00:00' } };
  const created = await call('POST', '/api/v1/campaigns', campaign);
  const id = String(created._id);

  const cpu = (): Record<string, number> => {
    const own = process.cpuUsage();
    const bench = (own.user + own.system) / 1_000;
    return { api: processCpuMs(api.pid) ?? 0, worker: processCpuMs(worker.pid) ?? 0, ...gateway.cpuMs(), bench };
  };
  // What the processes spend doing nothing (timers, queue polling, Kannel's status), per second: a throughput-bound
  // run lasts longer and pays more of it, so the figures also give the CPU per recipient without it.
  const idle0 = cpu();
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  const idleS = (performance.now() - idleStarted) / 1_000;
  const idleMsPerSecond = Object.fromEntries(Object.entries(cpu()).map(([name, ms]) => [name, round((ms - (idle0[name] ?? 0)) / idleS)]));
  /** Every process's CPU ms: safeline's, the gateway's, this one, the store's and Redis. */
  const everyCpu = async (): Promise<Record<string, number>> => {
    const store = storeCpu(options.mongoPid);
    return { ...cpu(), mongoServer: store.mongoServer, postgres: store.postgres, redis: (await redisCpuMs(redis)) ?? 0 };
  };
  const since = (before: Record<string, number>, now: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(now).map(([name, ms]) => [name, ms - (before[name] ?? 0)]));
  const cpu0 = await everyCpu();
  const machine0 = machineCpu();
  let cpuAtSent: Record<string, number> | undefined;
  let machineWhileSending = NaN;
  const started = performance.now();
  const marks: CampaignRun['marks'] = {};
  // Resident memory every second, kept as the highest seen in each phase: what grows with the audience shows as a rise from phase to phase.
  const phaseOf = (): Phase => (marks.sent !== undefined ? 'reports' : marks.fanOut !== undefined ? 'sending' : 'fanOut');
  const rssMbByPhase: CampaignRun['rssMbByPhase'] = {
    api: { idle: statusMb(api.pid, 'VmRSS'), fanOut: 0, sending: 0, reports: 0 },
    worker: { idle: statusMb(worker.pid, 'VmRSS'), fanOut: 0, sending: 0, reports: 0 },
  };
  const sampleRss = setInterval(() => {
    for (const [role, child] of [['api', api], ['worker', worker]] as const) {
      const mb = child.child.exitCode === null ? statusMb(child.pid, 'VmRSS') : 0;
      rssMbByPhase[role][phaseOf()] = Math.max(rssMbByPhase[role][phaseOf()], mb);
    }
  }, 1_000);
  await call('POST', `/api/v1/campaigns/${id}/schedule`);
  let final: Progress | undefined;
  try {
    await withTimeout(
      (async () => {
        for (;;) {
          const p = ((await call('GET', `/api/v1/campaigns/${id}`)) as unknown as { progress: Progress }).progress;
          final = p;
          const t = performance.now() - started;
          if (p.recipients >= recipients) marks.fanOut ??= t;
          if (p.sent + p.failed + p.unknown >= recipients && marks.sent === undefined) {
            marks.sent = t;
            cpuAtSent = await everyCpu();
            machineWhileSending = busyShare(machine0, machineCpu());
          }
          if (marks.sent !== undefined && p.delivered + p.failed >= recipients) return void (marks.reports = t);
          const line = `${seconds(t)} s: ${p.recipients} queued, ${p.sent} sent, ${p.delivered} delivered, ${p.failed} failed`;
          process.stdout.write(`\r  ${line}   `);
          await new Promise((r) => setTimeout(r, 500));
        }
      })(),
      options.timeoutMinutes * 60_000,
      `the campaign through ${gateway.name}`,
    );
  } finally {
    clearInterval(sampleRss);
  }
  const wallMs = performance.now() - started;
  const cpuMs = since(cpu0, await everyCpu());
  const machineBusy = { wholeRun: busyShare(machine0, machineCpu()), whileSending: machineWhileSending };
  const cpuMsWhileSending = since(cpu0, cpuAtSent ?? cpu0);
  console.log('');
  const [mongoServer, postgres] = [cpuMs.mongoServer ?? 0, cpuMs.postgres ?? 0];
  const store = { mongoServer, postgres, total: mongoServer + postgres };
  const reportsRefused = Number((await redis.get(`${options.queuePrefix}:delivery-reports-dropped`)) ?? 0);
  return {
    apiUrl, gateway, processes: { api, worker }, marks, wallMs, final, cpuMs, cpuMsWhileSending, machineBusy, idleMsPerSecond, store,
    rssMbByPhase, reportsRefused,
  };
}

/** A run's figures as bench:campaign prints them, whatever the gateway. */
export function figuresOf(run: CampaignRun, recipients: number) {
  const cpuSeconds = Object.fromEntries(Object.entries(run.cpuMs).map(([name, ms]) => [name, seconds(ms)]));
  const coresOver = (cpuMs: Record<string, number>, ms: number): Record<string, number> =>
    Object.fromEntries(Object.entries(cpuMs).map(([name, used]) => [name, round(used / ms)]));
  const coresBusy = coresOver(run.cpuMs, run.wallMs);
  const coresBusyWhileSending = coresOver(run.cpuMsWhileSending, run.marks.sent ?? NaN);
  const perRecipientUs = (ms: number): number => round((ms * 1_000) / recipients, 0);
  const safelineMs = (run.cpuMs.api ?? 0) + (run.cpuMs.worker ?? 0);
  const idleSafelineMsPerSecond = (run.idleMsPerSecond.api ?? 0) + (run.idleMsPerSecond.worker ?? 0);
  return {
    gateway: run.gateway.name,
    recipients,
    wallSeconds: seconds(run.wallMs),
    fanOutSeconds: seconds(run.marks.fanOut ?? NaN),
    sendsDoneSeconds: seconds(run.marks.sent ?? NaN),
    reportsAppliedSeconds: seconds(run.marks.reports ?? NaN),
    handedToGatewayPerSecond: round(recipients / ((run.marks.sent ?? run.wallMs) / 1_000), 0),
    deliveredPerSecond: round(recipients / ((run.marks.reports ?? run.wallMs) / 1_000), 0),
    final: run.final,
    duplicatesAtGateway: run.gateway.duplicates(),
    reportsRefused: run.reportsRefused,
    safelineCpuUsPerRecipient: perRecipientUs(safelineMs),
    // The same less what api and worker spend idle over as long a time.
    safelineCpuUsPerRecipientOverIdle: perRecipientUs(safelineMs - idleSafelineMsPerSecond * (run.wallMs / 1_000)),
    idleCpuMsPerSecond: run.idleMsPerSecond,
    cpuUsPerRecipient: Object.fromEntries(Object.entries(run.cpuMs).map(([name, ms]) => [name, perRecipientUs(ms)])),
    cpuSeconds,
    coresBusy,
    coresBusyWhileSending,
    machineBusy: run.machineBusy,
    gatewaySide: run.gateway.summary(),
    peakRssMb: { api: peakRssMb(run.processes.api.pid), worker: peakRssMb(run.processes.worker.pid) },
    rssMbByPhase: run.rssMbByPhase,
    loadAverage: loadavg().map((x) => round(x)),
  };
}
export type CampaignFigures = ReturnType<typeof figuresOf>;
