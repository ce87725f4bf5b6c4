/**
 * What the benchmarks share: the local PostgreSQL server, the project's MongoDB-compatible server on
 * a fresh PostgreSQL database, latency statistics, timeouts, and a cleanup list that runs once,
 * in reverse order, on success, failure or SIGINT/SIGTERM.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { ensureMongoServerBinary, startMongoServer, type RunningMongoServer } from '../src/dev-services/mongo-server';

/** The local PostgreSQL server the benchmarks create their databases on (trust auth). */
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

export const RESULTS_DIR = join(__dirname, 'results');

/** The V8 options the image runs safeline with (the Dockerfile's NODE_OPTIONS): a bench measures what is deployed. */
export const DEPLOYED_NODE_OPTIONS = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(join(__dirname, '..', 'Dockerfile'), 'utf8'))?.[1] ?? '';

export interface LatencyStats {
  n: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A small seeded PRNG (mulberry32), so runs pick the same documents. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function psql(sql: string, database = 'postgres'): string {
  return execFileSync('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-X', '-q', '-A', '-t', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Nearest-rank percentiles of latency samples in milliseconds. */
export function stats(samples: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const rank = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    n: sorted.length,
    meanMs: round(sorted.reduce((sum, x) => sum + x, 0) / sorted.length),
    p50Ms: round(rank(0.5)),
    p99Ms: round(rank(0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
  };
}

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type CleanupStep = () => Promise<void> | void;
const cleanups: CleanupStep[] = [];
const firstCleanups: CleanupStep[] = [];
let cleanedUp: Promise<void> | undefined;

/**
 * Registers a step for cleanup(); steps run last-registered first. `first` steps (stopping the load,
 * say) run before all the others, also last-registered first.
 */
export function onCleanup(fn: CleanupStep, options: { first?: boolean } = {}): void {
  (options.first ? firstCleanups : cleanups).push(fn);
}

/** Runs every registered step once (later calls return the same promise); a failing step does not stop the others. */
export function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    for (const fn of [...firstCleanups.reverse(), ...cleanups.reverse()]) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleanedUp;
}

/** On SIGINT or SIGTERM: say what is being undone, run cleanup(), exit 130. */
export function cleanupOnSignals(what: string): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: ${what}...`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

export interface MongoOnPostgres {
  server: RunningMongoServer;
  /** The PostgreSQL database holding the server's data; dropped by cleanup(). */
  database: string;
  pgVersion: string;
}

/**
 * Creates a fresh PostgreSQL database `safeline_bench_<label>_<time>_<pid>` and starts the
 * MongoDB-compatible server on it; cleanup() stops the server and drops the database.
 */
export async function startMongoOnFreshPostgres(label: string): Promise<MongoOnPostgres> {
  const pgVersion = psql('SHOW server_version');
  const database = `safeline_bench_${label}_${Date.now()}_${process.pid}`;

  const binaryPath = ensureMongoServerBinary();
  psql(`CREATE DATABASE "${database}"`);
  onCleanup(() => {
    psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    console.log(`dropped PostgreSQL database ${database}`);
  });

  const server = await startMongoServer({
    storage: { postgresqlUrl: `postgres://${PG.user}@${PG.host}:${PG.port}/${database}` },
    binaryPath,
  });
  onCleanup(() => server.stop());
  console.log(`mongo-server ${server.uri} (pid ${server.pid}) on PostgreSQL ${pgVersion}, database ${database}`);
  return { server, database, pgVersion };
}

export interface SafelineProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM and wait for the exit (also run by cleanup(); a second call does nothing). */
  stop(): Promise<void>;
}

/**
 * `node src/main.ts <role>` as deployed (the bench passes the env, NODE_OPTIONS included), stderr shown,
 * stdout ignored or into `stdoutFile`; `nodeArgs` go before the script (--trace-gc). cleanup() stops it.
 */
export function startSafelineProcess(
  role: 'api' | 'worker',
  env: NodeJS.ProcessEnv,
  options: { nodeArgs?: readonly string[]; stdoutFile?: string } = {},
): SafelineProcess {
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'w') : 'ignore';
  const script = join(__dirname, '..', 'src', 'main.ts');
  const args = [...(options.nodeArgs ?? []), '-r', '@swc-node/register', script, role];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', out, 'inherit'] });
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  onCleanup(stop);
  return { child, pid: child.pid ?? 0, stop };
}

/** Waits until `<url>/readyz` answers 200. */
export async function waitReady(url: string, timeoutMs = 90_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if ((await fetch(`${url}/readyz`).then((res) => res.status).catch(() => 0)) === 200) return;
  }
  throw new Error(`${url} not ready within ${timeoutMs / 1_000} s`);
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** Deletes every Redis key matching `pattern` (SCAN + UNLINK); returns how many. */
export async function scanDelete(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The fields of a /proc stat file after the command name (state, ppid, ..., utime at 11, stime at 12). */
function procStatFields(file: string): string[] {
  const stat = readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a /proc stat file, in ms; undefined where /proc is not there. */
export function procStatCpuMs(file: string): number | undefined {
  try {
    const fields = procStatFields(file);
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export const processCpuMs = (pid: number): number | undefined => procStatCpuMs(`/proc/${pid}/stat`);

/** CPU time of the PostgreSQL backends serving one database (the mongo-server's connections), alive now. */
export function postgresCpuMs(database: string): number | undefined {
  try {
    const pids = psql(`SELECT pid FROM pg_stat_activity WHERE datname = '${database}'`).split('\n').filter(Boolean);
    return pids.reduce((sum, pid) => sum + (processCpuMs(Number(pid)) ?? 0), 0);
  } catch {
    return undefined;
  }
}

let postmasterPid: number | undefined;

/**
 * CPU time of the whole PostgreSQL cluster: the postmaster, every process it runs now (backends,
 * WAL writer, checkpointer...), and every one that has exited (reaped into the postmaster's
 * cutime/cstime). Unlike postgresCpuMs(), nothing is lost when a backend exits between two samples,
 * and the background work writes cause (WAL, checkpoints) is counted. It counts every database on
 * the cluster, so compare windows on an otherwise idle server (the machine's is).
 */
export function postgresClusterCpuMs(): number | undefined {
  try {
    const fields = (pid: string): string[] => procStatFields(`/proc/${pid}/stat`);
    // The checkpointer lives as long as the cluster; its parent is the postmaster.
    postmasterPid ??= Number(fields(psql(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`))[1]);
    const own = fields(String(postmasterPid));
    let total = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0);
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const child = fields(pid);
        if (Number(child[1]) === postmasterPid) total += Number(child[11]) + Number(child[12]);
      } catch {
        // exited while being read: its time is in the postmaster's cutime from now on
      }
    }
    return (total * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** redis-server's CPU time (INFO cpu), whoever its clients are. */
export async function redisCpuMs(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('cpu').catch(() => '');
  const seconds = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const total = (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
  return Number.isFinite(total) ? total : undefined;
}

