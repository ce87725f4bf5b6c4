/**
 * What bench:faults kills and starts again: a redis-server of its own with the append-only file on (never
 * the machine's 6379), the MongoDB-compatible server on the same PostgreSQL database and port, and
 * safeline's processes (api, worker) with their logs in files (a faulted run logs a lot of reconnects).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isListening } from '../src/dev-services/free-port';
import { ensureMongoServerBinary, startMongoServer, type RunningMongoServer } from '../src/dev-services/mongo-server';
import { onCleanup, PG } from './support';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export interface RestartableRedis {
  readonly url: string;
  /** Stops redis-server as an operator's restart does (SIGTERM: the AOF is flushed), waits `downMs`, starts it again. */
  restart(downMs: number): Promise<void>;
}

/** redis-server on a free port, data (AOF, fsync every second) in `dir`; cleanup() stops it. */
export async function startAofRedis(dir: string): Promise<RestartableRedis> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess;
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    child = spawn('redis-server', [...args, '--dir', dir, '--loglevel', 'warning'], { stdio: 'ignore' });
    for (const deadline = Date.now() + 10_000; !(await isListening('127.0.0.1', port, 200)); await sleep(50)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not listen on ${port}`);
    }
  };
  const stop = async (): Promise<void> => {
    const exited = exitOf(child);
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  onCleanup(stop);
  return { url: `redis://127.0.0.1:${port}`, restart: async (downMs) => (await stop(), await sleep(downMs), await start()) };
}

export interface RestartableMongo {
  readonly uri: string;
  pid(): number;
  /** SIGKILL, `downMs` without a server, then a new one on the same port and PostgreSQL database. */
  crash(downMs: number): Promise<void>;
}

/** Takes over a server started by startMongoOnFreshPostgres() (same port, same database) so it can be killed. */
export function restartableMongo(first: RunningMongoServer, database: string): RestartableMongo {
  let current = first;
  return {
    uri: first.uri,
    pid: () => current.pid,
    async crash(downMs) {
      process.kill(current.pid, 'SIGKILL');
      await sleep(downMs);
      const postgresqlUrl = `postgres://${PG.user}@${PG.host}:${PG.port}/${database}`;
      current = await startMongoServer({ storage: { postgresqlUrl }, port: first.port, binaryPath: ensureMongoServerBinary() });
      const started = current;
      onCleanup(() => started.stop());
    },
  };
}

export interface SafelineProcess {
  readonly url: string;
  readonly child: ChildProcess;
}

/** `node src/main.ts ROLE` as bench/campaign.ts runs it, its output appended to `<logDir>/<name>.log`; resolves once /readyz says 200. */
export async function startSafelineProcess(role: 'api' | 'worker', name: string, env: NodeJS.ProcessEnv, logDir: string): Promise<SafelineProcess> {
  const port = await freePort();
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const main = join(__dirname, '..', 'src', 'main.ts');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', main, role], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  // pino writes to stdout; both go to the file.
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  onCleanup(async () => {
    const exited = exitOf(child);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 90_000; ; await sleep(200)) {
    if ((await fetch(`${url}/readyz`).then((res) => res.status).catch(() => 0)) === 200) return { url, child };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} not ready (see ${logDir}/${name}.log)`);
  }
}

/** SIGKILL, as the kernel's OOM killer or a pulled plug does; resolves once the process is gone. */
export async function kill(processToKill: SafelineProcess): Promise<void> {
  const exited = exitOf(processToKill.child);
  processToKill.child.kill('SIGKILL');
  await exited;
}
