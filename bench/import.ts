/**
 * npm run bench:import [-- --rows 1000000]
 *
 * A subscriber import end to end, as deployed: an api process and a worker process (built with
 * `npm run build`, run as `node dist/main.js`) on the
 * MongoDB-compatible server over PostgreSQL. The CSV (numbers in national form, the shortest row a
 * manager would send, so a million rows stay under the 20 MB upload limit) is posted to
 * /api/v1/subscribers/imports by a signed-in manager; the worker reads the sealed file piece by piece
 * and writes the subscribers. Reports rows per second and the peak RSS of api and worker.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { generateSecrets } from '../src/config/generated-secrets';
import { freePort } from '../src/dev-services/free-port';
import { hashPassword } from '../src/staff/passwords';
import { cleanup, cleanupOnSignals, DEPLOYED_NODE_OPTIONS, onCleanup, processCpuMs, scanDelete, startMongoOnFreshPostgres, withTimeout, writeResults } from './support';

const REDIS_URL = 'redis://127.0.0.1:6379';
const GOALS = { peakRssMb: 256 };
const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const statusMb = (pid: number, field: 'VmHWM' | 'VmRSS'): number => round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1_024);
/** The kernel's high-water mark of the process's resident memory, start-up included. */
const peakRssMb = (pid: number): number => statusMb(pid, 'VmHWM');

// As deployed: the compiled dist/main.js (`npm run build`), not the sources through @swc-node/register,
// whose compiler alone takes about 100 MB of a process's RSS.
const MAIN = join(__dirname, '..', 'dist', 'main.js');
// --trace-gc: each process's garbage collections (V8's --trace-gc) in bench/results/import-<role>.gc.log.
const TRACE_GC = process.argv.includes('--trace-gc');
if (TRACE_GC) mkdirSync(join(__dirname, 'results'), { recursive: true });

function startProcess(role: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const gcLog = TRACE_GC ? openSync(join(__dirname, 'results', `import-${role}.gc.log`), 'w') : 'ignore';
  const child = spawn(process.execPath, [...(TRACE_GC ? ['--trace-gc'] : []), MAIN, role], { env, stdio: ['ignore', gcLog, 'inherit'] });
  onCleanup(() => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))));
  return child;
}
async function waitReady(url: string): Promise<void> {
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if ((await fetch(`${url}/readyz`).then((res) => res.status).catch(() => 0)) === 200) return;
  }
  throw new Error(`${url} not ready`);
}

async function main(): Promise<void> {
  cleanupOnSignals('stopping safeline and dropping the bench database');
  console.log('npm run build...');
  execFileSync('npm', ['run', 'build'], { cwd: join(__dirname, '..'), stdio: ['ignore', 'ignore', 'inherit'] });
  const rows = option('rows', 1_000_000);
  const prefix = `bench_import_${Date.now()}_${process.pid}`;
  const redis = new Redis(REDIS_URL);
  onCleanup(async () => {
    console.log(`deleted ${await scanDelete(redis, `${prefix}*`)} Redis keys ${prefix}*`);
    redis.disconnect();
  });
  const { server } = await startMongoOnFreshPostgres('import');
  const mongodbUri = `${server.uri}bench_import`;
  const client = await MongoClient.connect(mongodbUri, { retryWrites: false });
  onCleanup(() => client.close());
  const hash = await hashPassword('bench-manager-password', 2 ** 12);
  await client.db().collection('staff_users').insertOne({ _id: 'bench-manager' as never, email: 'bench@safeline.test', name: 'bench', passwordHash: hash, roles: ['campaign_manager'], disabled: false, createdAt: new Date() });

  const secrets = generateSecrets();
  const env = { ...process.env, NODE_OPTIONS: DEPLOYED_NODE_OPTIONS, ...secrets, MONGODB_URI: mongodbUri, REDIS_URL, QUEUE_PREFIX: prefix, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const apiPort = await freePort();
  const workerPort = await freePort();
  const api = startProcess('api', { ...env, PORT: String(apiPort) });
  const worker = startProcess('worker', { ...env, PORT: String(workerPort) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([waitReady(apiUrl), waitReady(`http://127.0.0.1:${workerPort}`)]);

  const jar: string[] = [];
  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${apiUrl}${path}`, { method, headers: { cookie: jar.join('; '), ...headers }, body });
    for (const cookie of res.headers.getSetCookie()) jar.push(cookie.split(';')[0] ?? '');
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  await fetch(`${apiUrl}/console/login`).then((res) => jar.push(...res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '')));
  const loginCsrf = /sl_csrf=([^;]+)/.exec(jar.join('; '))?.[1] ?? '';
  const me = await call('POST', '/api/v1/auth/login', JSON.stringify({ email: 'bench@safeline.test', password: 'bench-manager-password' }), { 'content-type': 'application/json', 'x-csrf-token': loginCsrf });
  const csrf = String(me.json.csrfToken);

  const lines = ['phone,language,consent_source'];
  for (let i = 0; i < rows; i += 1) lines.push(`7${String(i).padStart(7, '0')},fr,b`);
  const csv = `${lines.join('\n')}\n`;
  console.log(`importing ${rows} rows (${round(csv.length / 1_048_576)} MB)...`);
  const idleRssMb = { api: statusMb(api.pid ?? 0, 'VmRSS'), worker: statusMb(worker.pid ?? 0, 'VmRSS') };
  const cpu0 = { api: processCpuMs(api.pid ?? 0) ?? 0, worker: processCpuMs(worker.pid ?? 0) ?? 0 };
  const started = performance.now();
  const posted = await call('POST', '/api/v1/subscribers/imports?filename=bench.csv', csv, { 'content-type': 'text/csv', 'x-csrf-token': csrf });
  if (posted.status !== 202) throw new Error(`upload refused: ${posted.status} ${JSON.stringify(posted.json)}`);
  const uploadedMs = performance.now() - started;
  type Status = { state: string; done: number; total: number; report: { imported: number; rejectedCount: number } | null };
  let status: Status | undefined;
  await withTimeout(
    (async () => {
      for (;;) {
        status = (await call('GET', `/api/v1/subscribers/imports/${String(posted.json.importId)}`)).json as unknown as Status;
        if (status.state === 'done' || status.state === 'failed') return;
        const s = (performance.now() - started) / 1_000;
        if (Math.round(s) % 10 === 0) process.stdout.write(`  ${round(s)} s: ${status.done}/${status.total} (${Math.round(status.done / s)} rows/s), RSS api ${peakRssMb(api.pid ?? 0)} MB, worker ${peakRssMb(worker.pid ?? 0)} MB\n`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })(),
    4 * 3_600_000,
    'the import',
  );
  const wallMs = performance.now() - started;
  console.log('');
  const results = {
    rows,
    fileMb: round(csv.length / 1_048_576),
    state: status?.state,
    imported: status?.report?.imported,
    rejected: status?.report?.rejectedCount,
    uploadSeconds: round(uploadedMs / 1_000),
    wallSeconds: round(wallMs / 1_000),
    rowsPerSecond: Math.round(rows / (wallMs / 1_000)),
    cpuSeconds: { api: round(((processCpuMs(api.pid ?? 0) ?? 0) - cpu0.api) / 1_000), worker: round(((processCpuMs(worker.pid ?? 0) ?? 0) - cpu0.worker) / 1_000) },
    idleRssMbBeforeUpload: idleRssMb,
    peakRssMb: { api: peakRssMb(api.pid ?? 0), worker: peakRssMb(worker.pid ?? 0), mongoServer: peakRssMb(server.pid) },
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
  const ok = results.state === 'done' && results.imported === rows && Math.max(results.peakRssMb.api, results.peakRssMb.worker) <= GOALS.peakRssMb;
  const goals = { rss: `api ${results.peakRssMb.api} MB, worker ${results.peakRssMb.worker} MB <= ${GOALS.peakRssMb} MB, all ${rows} rows imported: ${ok ? 'PASS' : 'FAIL'}` };
  console.log(JSON.stringify({ ...results, goals }, null, 2));
  console.log(`results: ${writeResults('import', { ...results, goals })}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
