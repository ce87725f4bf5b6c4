/**
 * npm run bench:faults [-- --recipients 20000 --rate 333 --retry-delay-ms 1000 --timeout-minutes 15]
 *
 * The same campaign twice in one invocation, on the MongoDB-compatible server over PostgreSQL, with
 * safeline as deployed (an api process and a worker process) and a redis-server of its own (AOF on):
 *   - clean: nothing goes wrong;
 *   - faulted: the worker killed (SIGKILL) three times during the send and started again 2 s later, Redis
 *     restarted once, the mongo-server killed once and started again a second later on the same database,
 *     and a gateway that answers 10 % of calls with HTTP 500 and 10 % of recipients with status 500, and
 *     posts delivery reports with 15 % failed, 5 % repeated and 5 % late (retried by the gateway until 2xx).
 * Printed for each: lost, duplicated, untracked, unbalanced (see bench/README.md) and the wall time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { generateSecrets } from '../src/config/generated-secrets';
import { parseConfig } from '../src/config/config';
import { createPhoneProtection, type PhoneProtection } from '../src/shared/phone-protection';
import { hashPassword } from '../src/staff/passwords';
import { startFakeAfricasTalking, type DeliveryReportOptions, type FakeAfricasTalkingOptions } from '../tests/support/fake-africastalking';
import { kill, restartableMongo, startAofRedis, startSafelineProcess, type RestartableMongo, type RestartableRedis, type SafelineProcess } from './fault-services';
import { cleanup, cleanupOnSignals, onCleanup, startMongoOnFreshPostgres, writeResults } from './support';

const TEXT = 'Un emploi trop beau a l etranger ? Verifiez avant de partir. Appelez le 80 00 11 11.';
const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

type Progress = Record<'recipients' | 'sent' | 'failed' | 'unknown' | 'optedOut' | 'cancelled' | 'delivered' | 'failedDelivery', number>;
type View = { status: string; progress: Progress; runs: Array<{ run: string }> };

interface Shared {
  recipients: number;
  rate: number;
  secrets: Record<string, string>;
  protection: PhoneProtection;
  mongo: RestartableMongo;
  redis: RestartableRedis;
  logDir: string;
}

/** Signs in as a campaign manager as the console does; returns a JSON caller. */
async function manager(apiUrl: string) {
  const jar: string[] = [];
  const call = async (method: string, path: string, body?: unknown, csrf = ''): Promise<Record<string, unknown>> => {
    const headers = { cookie: jar.join('; '), 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) };
    const res = await fetch(`${apiUrl}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    for (const cookie of res.headers.getSetCookie()) jar.push(cookie.split(';')[0] ?? '');
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  await fetch(`${apiUrl}/console/login`).then((res) => jar.push(...res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '')));
  const loginCsrf = /sl_csrf=([^;]+)/.exec(jar.join('; '))?.[1] ?? '';
  const me = await call('POST', '/api/v1/auth/login', { email: 'bench@safeline.test', password: 'bench-manager-password' }, loginCsrf);
  const csrf = String(me.csrfToken);
  return (method: string, path: string, body?: unknown) => call(method, path, body, csrf);
}

/** Seeds the run's own database: `recipients` opted-in subscribers (phones returned by their hash) and a manager. */
async function seed(client: MongoClient, shared: Shared, from: number): Promise<Map<string, string>> {
  const phones = new Map<string, string>();
  const at = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < shared.recipients; i += 1_000) {
    const docs = Array.from({ length: Math.min(1_000, shared.recipients - i) }, (_, j) => {
      const phone = `+2237${String(from + i + j).padStart(7, '0')}`;
      const hash = shared.protection.hash(phone);
      phones.set(hash, phone);
      const consent = { status: 'opted_in', source: 'import', at, evidence: 'bench' };
      return { _id: hash as never, phoneSealed: shared.protection.encrypt(phone), language: 'fr', region: 'bamako', topics: ['migration'], consent, createdAt: at, updatedAt: at, flagged: null };
    });
    await client.db().collection('subscribers').insertMany(docs, { ordered: false });
  }
  const passwordHash = await hashPassword('bench-manager-password', 2 ** 12);
  const staff = { _id: 'bench-manager' as never, email: 'bench@safeline.test', name: 'bench', passwordHash, roles: ['campaign_manager'], disabled: false, createdAt: new Date() };
  await client.db().collection('staff_users').insertOne(staff);
  return phones;
}

interface Fault {
  /** Share of the recipients the gateway has accepted when it strikes. */
  at: number;
  name: string;
  run(): Promise<void>;
}

async function runCampaign(name: 'clean' | 'faulted', shared: Shared, retryDelayMs: number) {
  const faulted = name === 'faulted';
  const prefix = `bench_faults_${Date.now()}_${name}`;
  const mongodbUri = `${shared.mongo.uri}bench_faults_${name}`;
  const client = await MongoClient.connect(mongodbUri, { retryWrites: false });
  onCleanup(() => client.close());
  console.log(`${name}: seeding ${shared.recipients} subscribers...`);
  const phones = await seed(client, shared, faulted ? 2_000_000 : 1_000_000);

  const gateway: FakeAfricasTalkingOptions = faulted ? { transientRate: 0.1, callFailureRate: 0.1, seed: 7 } : {};
  const fake = await startFakeAfricasTalking(gateway);
  onCleanup(() => fake.close());
  const env = {
    ...process.env, ...shared.secrets, MONGODB_URI: mongodbUri, REDIS_URL: shared.redis.url, QUEUE_PREFIX: prefix, HOST: '127.0.0.1',
    CALLBACK_ALLOWED_IPS: '127.0.0.1,::1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', SMS_GATEWAY: 'africastalking',
    AT_USERNAME: fake.username, AT_API_KEY: fake.apiKey,
    AT_BASE_URL: fake.url, SMS_MAX_PER_SECOND: '100000', CAMPAIGN_RETRY_DELAY_MS: String(retryDelayMs), SHUTDOWN_TIMEOUT_MS: '3000',
  };
  const api = await startSafelineProcess('api', `${name}-api`, env, shared.logDir);
  let workerNo = 1;
  let worker: SafelineProcess = await startSafelineProcess('worker', `${name}-worker-${workerNo}`, env, shared.logDir);
  const reports: DeliveryReportOptions = { failureRate: 0.15, retryMs: 1_000, ...(faulted ? { repeatRate: 0.05, lateRate: 0.05, lateMs: 5_000 } : {}) };
  fake.deliveryReportsTo(`${api.url}/sms/delivery?token=${shared.secrets.SMS_CALLBACK_TOKEN}`, reports);

  const call = await manager(api.url);
  const spread = { maxPerSecond: shared.rate, finishWithinHours: null };
  const created = await call('POST', '/api/v1/campaigns', { name, axis: 'prevention', texts: { fr: TEXT }, sendWindow: { from: '00:00', to: '00:00' }, spread });
  const id = String(created._id);

  const restartWorker = async (): Promise<void> => {
    await kill(worker);
    await sleep(2_000);
    workerNo += 1;
    worker = await startSafelineProcess('worker', `${name}-worker-${workerNo}`, env, shared.logDir);
  };
  const faults: Fault[] = faulted
    ? [
        { at: 0.15, name: 'worker SIGKILL 1', run: restartWorker },
        { at: 0.3, name: 'Redis restart', run: () => shared.redis.restart(1_000) },
        { at: 0.45, name: 'worker SIGKILL 2', run: restartWorker },
        { at: 0.6, name: 'mongo-server SIGKILL', run: () => shared.mongo.crash(1_000) },
        { at: 0.75, name: 'worker SIGKILL 3', run: restartWorker },
      ]
    : [];
  const struck: Array<{ name: string; atSeconds: number; acceptedAtGateway: number }> = [];

  const started = performance.now();
  await call('POST', `/api/v1/campaigns/${id}/schedule`);
  let view: View | undefined;
  let completedMs: number | undefined;
  let settledMs: number | undefined;
  const deadline = Date.now() + option('timeout-minutes', 15) * 60_000;
  let stableSince = 0;
  let last = '';
  while (Date.now() < deadline) {
    const next = faults[0];
    if (next && fake.accepted.length >= next.at * shared.recipients) {
      faults.shift();
      struck.push({ name: next.name, atSeconds: seconds(performance.now() - started), acceptedAtGateway: fake.accepted.length });
      console.log(`\n  ${name}: ${next.name} at ${struck.at(-1)?.atSeconds} s`);
      await next.run();
    }
    view = ((await call('GET', `/api/v1/campaigns/${id}`).catch(() => undefined)) as View | undefined) ?? view;
    const p = view?.progress;
    if (view?.status === 'completed') completedMs ??= performance.now() - started;
    // Done once the campaign is completed, every report due has been posted and the counters stopped moving for 3 s.
    const now = JSON.stringify(p);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
    if (completedMs !== undefined && faults.length === 0 && Date.now() - stableSince > 3_000) {
      await fake.deliveryReportsSettled();
      if (Date.now() - stableSince > 3_000) {
        settledMs = performance.now() - started - (Date.now() - stableSince);
        break;
      }
    }
    if (p) process.stdout.write(`\r  ${name} ${seconds(performance.now() - started)} s: ${p.sent} sent, ${p.failed} failed, ${p.unknown} unknown, ${p.delivered} delivered   `);
    await sleep(500);
  }
  console.log('');
  const ready = await Promise.all([api, worker].map((p) => fetch(`${p.url}/readyz`).then((res) => res.status === 200).catch(() => false)));
  const figures = await measure(client, phones, fake, view);
  const run = { name, completed: completedMs !== undefined, wallSeconds: seconds(settledMs ?? performance.now() - started), sendSeconds: seconds(completedMs ?? NaN) };
  await Promise.all([kill(api), kill(worker)]);
  return { ...run, faults: struck, processesReadyAtEnd: ready.every(Boolean), ...figures };
}

/**
 * lost: never accepted by the gateway and not counted failed; duplicated: numbers the gateway accepted twice;
 * untracked: results still "unknown" at the end; unbalanced: how far the counters are from adding up.
 */
async function measure(client: MongoClient, phones: Map<string, string>, fake: Awaited<ReturnType<typeof startFakeAfricasTalking>>, view: View | undefined) {
  type Row = { subscriber: string; outcome: string };
  const rows = await client.db().collection<Row>('campaign_send_results').find({}, { projection: { subscriber: 1, outcome: 1 } }).toArray();
  const outcome = new Map(rows.map((row) => [row.subscriber, row.outcome]));
  const accepted = new Set(fake.accepted.map((sms) => sms.number));
  let lost = 0;
  let noResult = 0;
  let unknownButAccepted = 0;
  let unknownNeverSent = 0;
  for (const [hash, phone] of phones) {
    const result = outcome.get(hash);
    if (result === undefined) noResult += 1;
    if (!accepted.has(phone) && result !== 'failed' && result !== 'opted_out' && result !== 'cancelled') lost += 1;
    if (result === 'unknown' && accepted.has(phone)) unknownButAccepted += 1;
    if (result === 'unknown' && !accepted.has(phone)) unknownNeverSent += 1;
  }
  const p = view?.progress ?? ({} as Progress);
  const sum = p.sent + p.failed + p.unknown + p.optedOut + p.cancelled;
  const overDelivered = Math.max(0, p.delivered + p.failedDelivery - p.sent);
  return {
    lost,
    duplicated: fake.duplicates().length,
    untracked: rows.filter((row) => row.outcome === 'unknown').length,
    unbalanced: Math.abs(sum - phones.size) + overDelivered,
    detail: {
      resultRows: rows.length,
      noResult,
      unknownButAccepted,
      unknownNeverSent,
      countersSum: sum,
      countersMinusRecipients: sum - phones.size,
      deliveredPlusFailedDeliveryMinusSent: p.delivered + p.failedDelivery - p.sent,
      gatewayCalls: fake.requests.length,
      reportsPosted: fake.deliveryReports.length,
      reportsRefused: fake.deliveryReports.filter((r) => r.httpStatus !== 200).length,
      progress: p,
    },
  };
}

async function main(): Promise<void> {
  cleanupOnSignals('stopping safeline, redis-server, the fake gateways and dropping the bench database');
  const recipients = option('recipients', 20_000);
  // Paced so that the send lasts about a minute and the faults strike during it.
  const rate = option('rate', Math.max(10, Math.round(recipients / 60)));
  const retryDelayMs = option('retry-delay-ms', 1_000);
  const work = mkdtempSync(join(tmpdir(), 'safeline-bench-faults-'));
  const redis = await startAofRedis(join(work, 'redis'));
  const { server, database } = await startMongoOnFreshPostgres('faults');
  const mongo = restartableMongo(server, database);
  const secrets: Record<string, string> = generateSecrets();
  const protection = createPhoneProtection(parseConfig({ ...secrets, MONGODB_URI: `${server.uri}x` }).secrets);
  const shared: Shared = { recipients, rate, secrets, protection, mongo, redis, logDir: join(work, 'logs') };
  console.log(`redis-server ${redis.url} (AOF), logs in ${shared.logDir}`);

  const clean = await runCampaign('clean', shared, retryDelayMs);
  const faulted = await runCampaign('faulted', shared, retryDelayMs);
  const ratio = Math.round((faulted.wallSeconds / clean.wallSeconds) * 100) / 100;
  const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  const zero = (run: typeof faulted) => run.lost + run.duplicated + run.untracked + run.unbalanced === 0;
  const goals = {
    exact: `faulted lost ${faulted.lost}, duplicated ${faulted.duplicated}, untracked ${faulted.untracked}, unbalanced ${faulted.unbalanced}: ${pass(zero(faulted))}`,
    clean: `clean lost ${clean.lost}, duplicated ${clean.duplicated}, untracked ${clean.untracked}, unbalanced ${clean.unbalanced}: ${pass(zero(clean))}`,
    wall: `faulted ${faulted.wallSeconds} s / clean ${clean.wallSeconds} s = ${ratio}x <= 2x: ${pass(ratio <= 2)}`,
    ready: pass(faulted.processesReadyAtEnd && clean.processesReadyAtEnd),
  };
  const results = { recipients, ratePerSecond: rate, retryDelayMs, clean, faulted, goals };
  console.log(JSON.stringify(results, null, 2));
  console.log(`results: ${writeResults('faults', results)}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
