import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The project's own MongoDB-compatible server (tools/mongo-server: FerretDB 1.24.2 with two
 * faults patched, over SQLite or PostgreSQL), for tests, `npm run dev` and benchmarks.
 * See shared/reference/mongodb-compat.md for what it supports.
 */

export interface RunningMongoServer {
  /** `mongodb://127.0.0.1:PORT/` (append a database name for mongoose). */
  readonly uri: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, SIGKILL after 5 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMongoServerOptions {
  /** SQLite: databases kept as files in sqliteDir (created if missing). PostgreSQL: a database URL. */
  storage: { sqliteDir: string } | { postgresqlUrl: string };
  /** TCP port on 127.0.0.1; omitted or 0 lets the server pick a free one. Reusing a port after stop() works. */
  port?: number;
  /** The binary from ensureMongoServerBinary(); built (or taken from the cache) when omitted. */
  binaryPath?: string;
}

const BUILD_SCRIPT = join('scripts', 'build-mongo-server.sh');
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const STDERR_LINES_KEPT = 30;

/** The repository root: the nearest ancestor of this file holding scripts/build-mongo-server.sh. */
function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, BUILD_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${BUILD_SCRIPT} above ${__dirname}`);
    dir = parent;
  }
}

/**
 * Builds the server with scripts/build-mongo-server.sh (a cache hit returns at once; a first
 * build takes a minute or two) and returns the binary's absolute path. The script's progress
 * goes to this process's stderr.
 */
export function ensureMongoServerBinary(): string {
  const output = execFileSync('bash', [join(repoRoot(), BUILD_SCRIPT)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const binaryPath = output.trim().split('\n').pop() ?? '';
  if (!isAbsolute(binaryPath) || !existsSync(binaryPath)) {
    throw new Error(`${BUILD_SCRIPT} printed ${JSON.stringify(output)}, not the path of a binary`);
  }
  return binaryPath;
}

/**
 * Starts the server on 127.0.0.1 and resolves once it accepts connections (its `ready` line).
 * The server also stops by itself if this process dies (its stdin closes).
 */
export function startMongoServer(opts: StartMongoServerOptions): Promise<RunningMongoServer> {
  const binaryPath = opts.binaryPath ?? ensureMongoServerBinary();
  const storageArgs = 'sqliteDir' in opts.storage ? ['--sqlite', opts.storage.sqliteDir] : ['--postgresql', opts.storage.postgresqlUrl];
  const args = ['--listen', `127.0.0.1:${opts.port ?? 0}`, ...storageArgs, '--stop-on-stdin-eof'];

  // stdin stays an open pipe that is never written to: when this process dies, it closes.
  const child = spawn(binaryPath, args, { stdio: 'pipe' });
  child.stdin.on('error', () => undefined);

  const stderrLines: string[] = [];
  let ready = false;
  let stopping = false;
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
    stderrLines.push(line);
    if (stderrLines.length > STDERR_LINES_KEPT) stderrLines.shift();
    // Once running, its own warnings (quiet by default) are worth seeing; not the duplicate-key
    // refusals (SQLSTATE 23505) that idempotent inserts count on.
    if (ready && !line.includes('SQLSTATE 23505')) process.stderr.write(`[mongo-server] ${line}\n`);
  });
  const lastStderr = (): string =>
    stderrLines.length > 0 ? `\n--- last stderr lines ---\n${stderrLines.join('\n')}` : ' (no stderr output)';

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  return new Promise<RunningMongoServer>((resolve, reject) => {
    let settled = false;
    const fail = (message: string, spawnFailed = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (spawnFailed) {
        // The process never started, so there is no exit to wait for.
        reject(new Error(message));
        return;
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // Give stderr a moment to drain so the error carries the server's last words.
      void exited.then(() => setTimeout(() => reject(new Error(`${message}${lastStderr()}`)), 50));
    };

    const timer = setTimeout(
      () => fail(`mongo-server (${binaryPath}) did not print its ready line within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );

    child.once('error', (err) => fail(`cannot run mongo-server (${binaryPath}): ${err.message}`, child.pid === undefined));
    child.once('exit', (code, signal) => {
      if (!ready) fail(`mongo-server exited before it was ready (${signal ?? `exit code ${code}`})`);
      else if (!stopping) process.stderr.write(`[mongo-server] exited unexpectedly (${signal ?? `exit code ${code}`})${lastStderr()}\n`);
    });

    const stop = async (): Promise<void> => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(killTimer);
      }
      child.stdin.destroy();
    };

    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      if (settled) return;
      const match = /^ready (mongodb:\/\/[^\s/]+:(\d+)\/)$/.exec(line);
      if (!match?.[1] || !match[2]) {
        fail(`mongo-server printed an unexpected line: ${JSON.stringify(line)}`);
        return;
      }
      ready = true;
      settled = true;
      clearTimeout(timer);
      if (child.pid === undefined) {
        reject(new Error('mongo-server has no pid'));
        return;
      }
      resolve({ uri: match[1], port: Number(match[2]), pid: child.pid, stop });
    });
  });
}
