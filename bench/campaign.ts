/**
 * npm run bench:campaign [-- --recipients 100000 --skip-baselines --timeout-minutes 15]
 *
 * A campaign end to end on the MongoDB-compatible server over PostgreSQL: fan-out, sends to a local
 * fake of Africa's Talking (over real HTTP), and a delivery report for every message posted back to
 * /sms/delivery by the fake as AT would. safeline runs as deployed: an api process and a worker
 * process. Two baselines from the same run:
 *   - bare Bull: empty jobs added in bulk and processed (4 at a time), per job;
 *   - the raw MongoDB driver writing the same per-recipient documents (messages, batches, send
 *     results, delivery reports) in batches of the same size, per recipient.
 * Costs are CPU time: Redis's for the queue, the mongo-server's plus PostgreSQL's for the store.
 * Then a burst of delivery reports alone measures how many /sms/delivery accepts per second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import Queue from 'bull';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { generateSecrets } from '../src/config/generated-secrets';
import { parseConfig } from '../src/config/config';
import { freePort } from '../src/dev-services/free-port';
import { createPhoneProtection } from '../src/shared/phone-protection';
import { hashPassword } from '../src/staff/passwords';
import { startFakeAfricasTalking } from '../tests/support/fake-africastalking';
import {
  cleanup,
  cleanupOnSignals,
  DEPLOYED_NODE_OPTIONS,
  onCleanup,
  postgresClusterCpuMs,
  processCpuMs,
  redisCpuMs,
  scanDelete,
  startMongoOnFreshPostgres,
  withTimeout,
  writeResults,
} from './support';

const REDIS_URL = 'redis://127.0.0.1:6379';
// autocannon has no types; only what is used here.
type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
const autocannon = createRequire(__filename)('autocannon') as (opts: Record<string, unknown>) => Promise<{ non2xx: number; errors: number }>;
const BATCH = 100;
const TEXT = 'Un emploi trop beau a l etranger ? Verifiez avant de partir. Appelez le 80 00 11 11.';
const GOALS = { wallSeconds: 180, storeRatio: 1.5, queueRatio: 3, peakRssMb: 512, reportsPerSecond: 2_000 };

const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const seconds = (ms: number): number => round(ms / 1_000, 1);
const peakRssMb = (pid: number): number => round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1_024, 1);

const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const rssMb = (pid: number): number => round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1_024, 1);

/** With --trace-gc, each process's V8 GC trace (live heap after each collection) goes to bench/results/campaign-<role>-gc.log. */
function startProcess(role: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const traceGc = flag('trace-gc');
  if (traceGc) mkdirSync(join(__dirname, 'results'), { recursive: true });
  const out = traceGc ? openSync(join(__dirname, 'results', `campaign-${role}-gc.log`), 'w') : 'ignore';
  const child = spawn(process.execPath, [...(traceGc ? ['--trace-gc'] : []), '-r', '@swc-node/register', join(__dirname, '..', 'src', 'main.ts'), role], { env, stdio: ['ignore', out, 'inherit'] });
  onCleanup(() => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))));
  return child;
}
async function waitReady(url: string): Promise<void> {
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if ((await fetch(`${url}/readyz`).then((res) => res.status).catch(() => 0)) === 200) return;
  }
  throw new Error(`${url} not ready`);
}

interface StoreCpu {
  mongoServer: number;
  postgres: number;
  total: number;
}
/** The store's CPU: the mongo-server process and the whole PostgreSQL cluster under it (see postgresClusterCpuMs). */
const storeCpu = (mongoPid: number): StoreCpu => {
  const mongoServer = processCpuMs(mongoPid) ?? 0;
  const postgres = postgresClusterCpuMs() ?? 0;
  return { mongoServer, postgres, total: mongoServer + postgres };
};
const storeCpuSince = (mongoPid: number, before: StoreCpu): StoreCpu => {
  const now = storeCpu(mongoPid);
  return { mongoServer: now.mongoServer - before.mongoServer, postgres: now.postgres - before.postgres, total: now.total - before.total };
};
const perRecipient = (cpu: StoreCpu, recipients: number): StoreCpu => ({ mongoServer: round((cpu.mongoServer * 1_000) / recipients), postgres: round((cpu.postgres * 1_000) / recipients), total: round((cpu.total * 1_000) / recipients) });

/** Bare Bull: empty jobs, added in bulk, processed 4 at a time. */
async function bareBull(redis: Redis, prefix: string, jobs: number): Promise<{ jobsPerSecond: number; redisCpuUsPerJob: number }> {
  const queue = new Queue<{ i: number }>('bare', { prefix, createClient: (type) => (type === 'bclient' ? new Redis(REDIS_URL, { maxRetriesPerRequest: null, enableReadyCheck: false }) : new Redis(REDIS_URL, { maxRetriesPerRequest: null, enableReadyCheck: false })) });
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    void queue.process(4, () => {
      done += 1;
      if (done === jobs) resolve();
      return Promise.resolve();
    });
  });
  const cpu0 = (await redisCpuMs(redis)) ?? 0;
  const started = performance.now();
  for (let i = 0; i < jobs; i += 1_000) await queue.addBulk(Array.from({ length: Math.min(1_000, jobs - i) }, (_, j) => ({ data: { i: i + j }, opts: { removeOnComplete: true } })));
  await finished;
  const ms = performance.now() - started;
  const cpu = ((await redisCpuMs(redis)) ?? 0) - cpu0;
  await queue.close();
  return { jobsPerSecond: round(jobs / (ms / 1_000), 0), redisCpuUsPerJob: round((cpu * 1_000) / jobs) };
}

/**
 * The raw driver doing what the pipeline does with the store per recipient, in batches of the same
 * size: read the audience (the same query as the fan-out, unsorted), write the batch, the messages, the
 * send results and the delivery reports, and update each batch twice (sending, done). The documents
 * are the pipeline's, value for value in shape and length: a campaign id (a UUID), its run, message
 * and batch ids made from the subscribers read, their sealed numbers, the campaign's text, and
 * message ids shaped like the gateway's.
 */
async function rawDriver(client: MongoClient, database: string, mongoPid: number, recipients: number): Promise<{ recipientsPerSecond: number; storeCpuUsPerRecipient: number; split: StoreCpu }> {
  const db = client.db(database);
  const campaign = randomUUID();
  const run = `${campaign}~1`;
  const messageIdPrefix = `ATXid_${randomBytes(6).toString('hex')}_`;
  /** The n-th recipient's (0-based) message id, shaped like the gateway's. */
  const messageIdOf = (n: number): string => `${messageIdPrefix}${n + 1}`;
  const cpu0 = storeCpu(mongoPid);
  const started = performance.now();
  const now = new Date();
  type AudienceRow = { _id: string; phoneSealed: string; language: string };
  const audience: AudienceRow[] = [];
  for await (const subscriber of client.db().collection<AudienceRow>('subscribers').find({ 'consent.status': 'opted_in', flagged: null, language: { $in: ['fr'] } }, { projection: { _id: 1, phoneSealed: 1, language: 1 } }).batchSize(1_000)) audience.push(subscriber);
  if (audience.length !== recipients) throw new Error(`raw baseline read ${audience.length} subscribers, expected ${recipients}`);
  for (let b = 0; b < recipients; b += BATCH) {
    const chunk = audience.slice(b, b + BATCH);
    const batch = `${run}:${chunk[0]?._id ?? ''}`;
    const rows = chunk.map((subscriber) => ({ message: `${run}:${subscriber._id}`, subscriber: subscriber._id, sealed: subscriber.phoneSealed }));
    await db.collection('campaign_batches').insertOne({ _id: batch as never, campaign, run, language: 'fr', text: TEXT, recipients: rows, status: 'queued', retry: 0, updatedAt: now });
    await db.collection('campaign_messages').insertMany(rows.map((row) => ({ _id: row.message as never, campaign, run, subscriber: row.subscriber, language: 'fr', batch, createdAt: now })), { ordered: false });
    await db.collection('campaign_batches').updateOne({ _id: batch as never }, { $set: { status: 'sending', updatedAt: now } });
    await db.collection('campaign_send_results').insertMany(rows.map((row, i) => ({ _id: messageIdOf(b + i) as never, message: row.message, campaign, run, subscriber: row.subscriber, outcome: 'accepted', statusCode: 101, status: 'Success', cost: 20, parts: 1, at: now })), { ordered: false });
    await db.collection('campaign_batches').updateOne({ _id: batch as never }, { $set: { status: 'done', updatedAt: now } });
  }
  for (let i = 0; i < recipients; i += 1_000) {
    await db.collection('delivery_reports').insertMany(Array.from({ length: Math.min(1_000, recipients - i) }, (_, j) => messageIdOf(i + j)).map((messageId) => ({ _id: `${messageId}:Success` as never, messageId, status: 'Success', final: true, failureReason: '', run, at: now })), { ordered: false });
  }
  const ms = performance.now() - started;
  const used = storeCpuSince(mongoPid, cpu0);
  await db.dropDatabase();
  return { recipientsPerSecond: round(recipients / (ms / 1_000), 0), storeCpuUsPerRecipient: round((used.total * 1_000) / recipients), split: perRecipient(used, recipients) };
}

async function main(): Promise<void> {
  cleanupOnSignals('stopping safeline, the fake gateway and dropping the bench database');
  const recipients = option('recipients', 100_000);
  const tag = `${Date.now()}_${process.pid}`;
  const prefix = `bench_campaign_${tag}`;
  const redis = new Redis(REDIS_URL);
  onCleanup(async () => {
    const n = await scanDelete(redis, `${prefix}*`);
    console.log(`deleted ${n} Redis keys ${prefix}*`);
    redis.disconnect();
  });
  const { server } = await startMongoOnFreshPostgres('campaign');
  const mongodbUri = `${server.uri}bench_campaign`;
  const client = await MongoClient.connect(mongodbUri, { retryWrites: false });
  onCleanup(() => client.close());

  // --skip-baselines: only safeline's own run (its api and worker start after the baselines, so their memory is the same).
  const baselines = !flag('skip-baselines');
  console.log(baselines ? `baseline: bare Bull, 20,000 empty jobs...` : 'baselines skipped');
  const bull = baselines ? await bareBull(redis, `${prefix}_bare`, 20_000) : { jobsPerSecond: NaN, redisCpuUsPerJob: NaN };
  if (baselines) console.log(`  ${bull.jobsPerSecond} jobs/s, Redis ${bull.redisCpuUsPerJob} us CPU per job`);
  const secrets = generateSecrets();
  const config = parseConfig({ ...secrets, MONGODB_URI: mongodbUri });
  const protection = createPhoneProtection(config.secrets);
  console.log(`seeding ${recipients} subscribers...`);
  const at = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < recipients; i += 1_000) {
    const docs = Array.from({ length: Math.min(1_000, recipients - i) }, (_, j) => {
      const phone = `+2237${String(1_000_000 + i + j).padStart(7, '0')}`;
      return { _id: protection.hash(phone) as never, phoneSealed: protection.encrypt(phone), language: 'fr', region: 'bamako', topics: ['migration'], consent: { status: 'opted_in', source: 'import', at, evidence: 'bench' }, createdAt: at, updatedAt: at, flagged: null };
    });
    await client.db().collection('subscribers').insertMany(docs, { ordered: false });
  }
  const raw = baselines ? (console.log(`baseline: raw driver, the same documents for ${recipients} recipients...`), await rawDriver(client, 'bench_raw', server.pid, recipients)) : { recipientsPerSecond: NaN, storeCpuUsPerRecipient: NaN, split: { mongoServer: NaN, postgres: NaN, total: NaN } };
  if (baselines) console.log(`  ${raw.recipientsPerSecond} recipients/s, store ${raw.storeCpuUsPerRecipient} us CPU per recipient`);

  const hash = await hashPassword('bench-manager-password', 2 ** 12);
  await client.db().collection('staff_users').insertOne({ _id: 'bench-manager' as never, email: 'bench@safeline.test', name: 'bench', passwordHash: hash, roles: ['campaign_manager'], disabled: false, createdAt: new Date() });

  const fake = await startFakeAfricasTalking();
  onCleanup(() => fake.close());
  const apiPort = await freePort();
  const env = { ...process.env, NODE_OPTIONS: DEPLOYED_NODE_OPTIONS, ...secrets, MONGODB_URI: mongodbUri, REDIS_URL, QUEUE_PREFIX: prefix, HOST: '127.0.0.1', CALLBACK_ALLOWED_IPS: '127.0.0.1,::1', LOG_LEVEL: 'warn', SMS_GATEWAY: 'africastalking', AT_USERNAME: fake.username, AT_API_KEY: fake.apiKey, AT_BASE_URL: fake.url, SMS_MAX_PER_SECOND: '100000', CAMPAIGN_BATCH_SIZE: String(BATCH) };
  const api = startProcess('api', { ...env, PORT: String(apiPort) });
  const workerPort = await freePort();
  const worker = startProcess('worker', { ...env, PORT: String(workerPort) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([waitReady(apiUrl), waitReady(`http://127.0.0.1:${workerPort}`)]);
  // As AT does, reports come a little after the send's answer: posted at once, many would overtake
  // the send's own record, count against DELIVERY_REPORT_MAX_UNKNOWN_PER_MINUTE, get 429 and (the fake
  // does not retry) never be applied, and the run would never finish.
  fake.deliveryReportsTo(`${apiUrl}/sms/delivery?token=${secrets.SMS_CALLBACK_TOKEN}`, { delayMs: 2_000 });

  // Sign in as a manager, as the console would.
  const jar: string[] = [];
  const call = async (method: string, path: string, body?: unknown, csrf = '') => {
    const res = await fetch(`${apiUrl}${path}`, { method, headers: { cookie: jar.join('; '), 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) }, body: body ? JSON.stringify(body) : undefined });
    for (const cookie of res.headers.getSetCookie()) jar.push(cookie.split(';')[0] ?? '');
    return (await res.json()) as Record<string, unknown>;
  };
  await fetch(`${apiUrl}/console/login`).then((res) => jar.push(...res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '')));
  const loginCsrf = /sl_csrf=([^;]+)/.exec(jar.join('; '))?.[1] ?? '';
  const me = await call('POST', '/api/v1/auth/login', { email: 'bench@safeline.test', password: 'bench-manager-password' }, loginCsrf);
  const csrf = String(me.csrfToken);
  const created = await call('POST', '/api/v1/campaigns', { name: 'bench', axis: 'prevention', texts: { fr: TEXT }, sendWindow: { from: '00:00', to: '00:00' } }, csrf);
  const id = String(created._id);

  const cpu = () => ({ api: processCpuMs(api.pid ?? 0) ?? 0, worker: processCpuMs(worker.pid ?? 0) ?? 0 });
  const cpu0 = cpu();
  const store0 = storeCpu(server.pid);
  const redisCpu0 = (await redisCpuMs(redis)) ?? 0;
  const started = performance.now();
  const marks: Record<string, number> = {};
  // Resident memory every second, kept as the highest seen in each phase: what grows with the audience shows as a rise from phase to phase.
  type Phase = 'idle' | 'fanOut' | 'sending' | 'reports';
  const phaseOf = (): Phase => (marks.sent !== undefined ? 'reports' : marks.fanOut !== undefined ? 'sending' : 'fanOut');
  const rssByPhase: Record<'api' | 'worker', Record<Phase, number>> = { api: { idle: rssMb(api.pid ?? 0), fanOut: 0, sending: 0, reports: 0 }, worker: { idle: rssMb(worker.pid ?? 0), fanOut: 0, sending: 0, reports: 0 } };
  const sampleRss = setInterval(() => {
    const phase = phaseOf();
    for (const [role, child] of [['api', api], ['worker', worker]] as const) {
      const mb = child.exitCode === null ? rssMb(child.pid ?? 0) : 0;
      rssByPhase[role][phase] = Math.max(rssByPhase[role][phase], mb);
    }
  }, 1_000);
  onCleanup(() => clearInterval(sampleRss));
  await call('POST', `/api/v1/campaigns/${id}/schedule`, undefined, csrf);
  type View = { status: string; progress: { recipients: number; sent: number; failed: number; delivered: number; unknown: number; optedOut: number } };
  let view: View | undefined;
  await withTimeout(
    (async () => {
      for (;;) {
        view = (await call('GET', `/api/v1/campaigns/${id}`)) as unknown as View;
        const p = view.progress;
        const t = performance.now() - started;
        if (p.recipients >= recipients) marks.fanOut ??= t;
        if (p.sent + p.failed + p.unknown >= recipients) marks.sent ??= t;
        if (marks.sent !== undefined && p.delivered + p.failed >= recipients) {
          marks.reports = t;
          return;
        }
        process.stdout.write(`\r  ${seconds(t)} s: ${p.recipients} queued, ${p.sent} sent, ${p.delivered} delivered, ${p.failed} failed   `);
        await new Promise((r) => setTimeout(r, 500));
      }
    })(),
    option('timeout-minutes', 15) * 60_000,
    'the campaign',
  );
  const wallMs = performance.now() - started;
  clearInterval(sampleRss);
  const used = cpu();
  const store = storeCpuSince(server.pid, store0);
  const redisCpu = ((await redisCpuMs(redis)) ?? 0) - redisCpu0;
  console.log('');
  const storeUs = (store.total * 1_000) / recipients;
  const queueUs = (redisCpu * 1_000) / recipients;

  console.log('burst: 20,000 delivery reports posted at once (autocannon, 64 connections)...');
  const ids = Array.from({ length: 20_000 }, (_, i) => fake.accepted[i % fake.accepted.length]?.messageId ?? `ATXid_unknown_${i}`);
  let next = 0;
  const burstStart = performance.now();
  const burst = await autocannon({
    url: `${apiUrl}/sms/delivery?token=${secrets.SMS_CALLBACK_TOKEN}`,
    connections: 64,
    amount: ids.length,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [{ setupRequest: (request: Request): Request => ({ ...request, body: `id=${ids[next++ % ids.length] ?? ''}&status=Success&phoneNumber=%2B22370000000&networkCode=61002&retryCount=0` }) }],
  });
  const burstMs = performance.now() - burstStart;
  const refused = burst.non2xx + burst.errors;
  const inbox = `${prefix}:delivery-report-inbox`;
  const drainStart = performance.now();
  while ((await redis.llen(inbox)) > 0) await new Promise((r) => setTimeout(r, 100));
  const drainMs = performance.now() - drainStart + burstMs;

  const results = {
    recipients,
    batchSize: BATCH,
    nodeOptions: DEPLOYED_NODE_OPTIONS,
    wallSeconds: seconds(wallMs),
    fanOutSeconds: seconds(marks.fanOut ?? NaN),
    sendsDoneSeconds: seconds(marks.sent ?? NaN),
    reportsAppliedSeconds: seconds(marks.reports ?? NaN),
    handedToGatewayPerSecond: round(recipients / ((marks.sent ?? wallMs) / 1_000), 0),
    final: view?.progress,
    duplicatesAtGateway: fake.duplicates().length,
    baselines: { bareBull: bull, rawDriver: raw },
    store: { cpuUsPerRecipient: round(storeUs), ratioToRawDriver: round(storeUs / raw.storeCpuUsPerRecipient), split: perRecipient(store, recipients) },
    queue: { redisCpuUsPerRecipient: round(queueUs), ratioToBareBullJob: round(queueUs / bull.redisCpuUsPerJob) },
    cpuSeconds: { api: seconds(used.api - cpu0.api), worker: seconds(used.worker - cpu0.worker), mongoServer: seconds(store.mongoServer), postgres: seconds(store.postgres), redis: seconds(redisCpu) },
    peakRssMb: { api: peakRssMb(api.pid ?? 0), worker: peakRssMb(worker.pid ?? 0), mongoServer: peakRssMb(server.pid), bench: round(process.memoryUsage().rss / 1_048_576, 1) },
    rssMbByPhase: rssByPhase,
    deliveryReportBurst: { posted: ids.length, refused, acceptedPerSecond: round(ids.length / (burstMs / 1_000), 0), appliedWithinSeconds: seconds(drainMs) },
  };
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const goals = {
    wall: `${results.wallSeconds} s <= ${GOALS.wallSeconds} s: ${verdict(results.wallSeconds <= GOALS.wallSeconds)}`,
    store: `${results.store.ratioToRawDriver}x raw driver <= ${GOALS.storeRatio}x: ${verdict(results.store.ratioToRawDriver <= GOALS.storeRatio)}`,
    queue: `${results.queue.ratioToBareBullJob}x a bare Bull job <= ${GOALS.queueRatio}x: ${verdict(results.queue.ratioToBareBullJob <= GOALS.queueRatio)}`,
    rss: `api ${results.peakRssMb.api} MB, worker ${results.peakRssMb.worker} MB <= ${GOALS.peakRssMb} MB: ${verdict(Math.max(results.peakRssMb.api, results.peakRssMb.worker) <= GOALS.peakRssMb)}`,
    reports: `${results.deliveryReportBurst.acceptedPerSecond}/s >= ${GOALS.reportsPerSecond}/s, all applied: ${verdict(results.deliveryReportBurst.acceptedPerSecond >= GOALS.reportsPerSecond && refused === 0)}`,
    noDuplicates: verdict(results.duplicatesAtGateway === 0),
  };
  console.log(JSON.stringify({ ...results, goals }, null, 2));
  console.log(`results: ${writeResults('campaign', { ...results, goals })}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
