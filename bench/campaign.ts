/**
 * npm run bench:campaign [-- --recipients 100000 --skip-baselines --timeout-minutes 15]
 * npm run bench:campaign -- --gateway kannel [--kannel-throughput 200 --skip-at --probe-requests 2000]
 *
 * A campaign end to end on the MongoDB-compatible server over PostgreSQL (bench/campaign-run.ts): fan-out,
 * sends, and a delivery report for every message applied. safeline runs as deployed: an api process and a
 * worker process.
 *
 * --gateway africastalking (the default): sends to a local fake of Africa's Talking over real HTTP, which posts
 * each report to /sms/delivery as AT would. Two baselines from the same run (bench/campaign-baselines.ts):
 *   - bare Bull: empty jobs added in bulk and processed (4 at a time), per job;
 *   - the raw MongoDB driver writing the same per-recipient documents (messages, batches, send
 *     results, delivery reports) in batches of the same size, per recipient.
 * Costs are CPU time: Redis's for the queue, the mongo-server's plus PostgreSQL's for the store.
 * Then a burst of delivery reports alone measures how many /sms/delivery accepts per second.
 *
 * --gateway kannel: the same campaign with SMS_GATEWAY=kannel through Kannel's bearerbox + smsbox and the SMPP
 * simulator (bench/campaign-gateways.ts), receipts coming back through /sms/kannel/delivery; then (unless
 * --skip-at) the same campaign again through the AT fake, each on a database of its own, for the ratio.
 * Before safeline starts, the bench's own sendsms calls measure Kannel alone (--probe-requests). Recipients per
 * second sent and delivered, safeline's CPU per recipient (api + worker), Kannel's, and which one was the limit
 * (bench/campaign-kannel.ts): Kannel's `throughput` (--kannel-throughput, default 200/s; 0: unset), its
 * sendsms, or safeline's fan-out.
 */
import { createRequire } from 'node:module';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { bareBull, rawDriver } from './campaign-baselines';
import { atFakeGateway, kannelGateway, type BenchGateway } from './campaign-gateways';
import { kannelComparison } from './campaign-kannel';
import {
  BATCH, figuresOf, peakRssMb, perRecipient, REDIS_URL, round, runCampaign, seconds, seedSubscribers, type CampaignFigures,
} from './campaign-run';
import {
  cleanup, cleanupOnSignals, DEPLOYED_NODE_OPTIONS, onCleanup, scanDelete, startMongoOnFreshPostgres, writeResults,
} from './support';

// autocannon has no types; only what is used here.
type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
type Autocannon = (opts: Record<string, unknown>) => Promise<{ non2xx: number; errors: number }>;
const autocannon = createRequire(__filename)('autocannon') as Autocannon;
/** Messages per second of the bind in kannel.conf: an operator's contracted rate, below what safeline sends. */
const DEFAULT_KANNEL_THROUGHPUT = 200;
const GOALS = { wallSeconds: 180, storeRatio: 1.5, queueRatio: 3, peakRssMb: 512, reportsPerSecond: 2_000 };

const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const text = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
};
const option = (name: string, fallback: number): number => {
  const value = Number(text(name, String(fallback)));
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
};

interface Bench {
  readonly recipients: number;
  readonly prefix: string;
  readonly redis: Redis;
  readonly client: MongoClient;
  readonly server: { uri: string; pid: number };
}

/** Seeds a database of its own and runs the campaign through `gateway`. */
async function campaignThrough(
  bench: Bench,
  name: string,
  gateway: (apiUrl: string, token: string) => Promise<BenchGateway>,
  timeoutMinutes: number,
) {
  const db = bench.client.db(`bench_campaign_${name}`);
  console.log(`${name}: seeding ${bench.recipients} subscribers...`);
  const secrets = await seedSubscribers(db, bench.server.uri, bench.recipients);
  console.log(`${name}: the campaign...`);
  const run = await runCampaign({
    recipients: bench.recipients, db, mongoUri: bench.server.uri, mongoPid: bench.server.pid, secrets, redis: bench.redis,
    queuePrefix: `${bench.prefix}_${name}`, gateway, timeoutMinutes,
  });
  return { run, db, secrets };
}

async function kannelBench(bench: Bench): Promise<void> {
  const throughput = option('kannel-throughput', DEFAULT_KANNEL_THROUGHPUT);
  const dir = `/tmp/safeline-bench-campaign-kannel-${bench.prefix}`;
  // A throughput-bound run lasts recipients / throughput at least: the default timeout leaves it twice that.
  const timeout = option('timeout-minutes', Math.max(15, throughput > 0 ? Math.ceil((2 * bench.recipients) / throughput / 60) : 0));
  const stop = async ({ run, db }: Awaited<ReturnType<typeof campaignThrough>>): Promise<void> => {
    await Promise.all([run.processes.api.stop(), run.processes.worker.stop()]);
    await run.gateway.close();
    await db.dropDatabase();
  };
  const probeRequests = option('probe-requests', 2_000);
  const kannelRun = await campaignThrough(
    bench, 'kannel', (apiUrl, token) => kannelGateway({ apiUrl, token, throughput, dir, probeRequests }), timeout,
  );
  const kannel = figuresOf(kannelRun.run, bench.recipients);
  console.log(JSON.stringify(kannel, null, 2));
  await stop(kannelRun);
  let at: CampaignFigures | undefined;
  if (!flag('skip-at')) {
    const atRun = await campaignThrough(bench, 'at', atFakeGateway, option('timeout-minutes', 15));
    at = figuresOf(atRun.run, bench.recipients);
    console.log(JSON.stringify(at, null, 2));
    await stop(atRun);
  }
  const comparison = kannelComparison(kannel, at, throughput);
  console.log(JSON.stringify(comparison, null, 2));
  const file = writeResults('campaign-kannel', {
    nodeOptions: DEPLOYED_NODE_OPTIONS, batchSize: BATCH, comparison, kannel, africastalking: at,
  });
  console.log(`results: ${file}`);
}

async function atBench(bench: Bench): Promise<void> {
  const { recipients, redis, client, server } = bench;
  // --skip-baselines: only safeline's own run (its api and worker start after the baselines, so their memory is the same).
  const baselines = !flag('skip-baselines');
  console.log(baselines ? `baseline: bare Bull, 20,000 empty jobs...` : 'baselines skipped');
  const bull = baselines ? await bareBull(redis, `${bench.prefix}_bare`, 20_000) : { jobsPerSecond: NaN, redisCpuUsPerJob: NaN };
  if (baselines) console.log(`  ${bull.jobsPerSecond} jobs/s, Redis ${bull.redisCpuUsPerJob} us CPU per job`);
  const db = client.db('bench_campaign');
  console.log(`seeding ${recipients} subscribers...`);
  const secrets = await seedSubscribers(db, server.uri, recipients);
  if (baselines) console.log(`baseline: raw driver, the same documents for ${recipients} recipients...`);
  const raw = baselines
    ? await rawDriver(client, db.databaseName, 'bench_raw', server.pid, recipients)
    : { recipientsPerSecond: NaN, storeCpuUsPerRecipient: NaN, split: { mongoServer: NaN, postgres: NaN, total: NaN } };
  if (baselines) console.log(`  ${raw.recipientsPerSecond} recipients/s, store ${raw.storeCpuUsPerRecipient} us CPU per recipient`);

  let gateway: Awaited<ReturnType<typeof atFakeGateway>> | undefined;
  const run = await runCampaign({
    recipients, db, mongoUri: server.uri, mongoPid: server.pid, secrets, redis, queuePrefix: bench.prefix, traceGc: flag('trace-gc'),
    gateway: async (apiUrl, token) => (gateway = await atFakeGateway(apiUrl, token)),
    timeoutMinutes: option('timeout-minutes', 15),
  });
  const fake = gateway?.fake;
  if (!fake) throw new Error('the AT fake did not start');
  const storeUs = (run.store.total * 1_000) / recipients;
  const queueUs = ((run.cpuMs.redis ?? 0) * 1_000) / recipients;

  console.log('burst: 20,000 delivery reports posted at once (autocannon, 64 connections)...');
  const ids = Array.from({ length: 20_000 }, (_, i) => fake.accepted[i % fake.accepted.length]?.messageId ?? `ATXid_unknown_${i}`);
  let next = 0;
  const burstStart = performance.now();
  const burst = await autocannon({
    url: `${run.apiUrl}/sms/delivery?token=${secrets.SMS_CALLBACK_TOKEN}`,
    connections: 64,
    amount: ids.length,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [{
      setupRequest: (request: Request): Request => ({
        ...request,
        body: `id=${ids[next++ % ids.length] ?? ''}&status=Success&phoneNumber=%2B22370000000&networkCode=61002&retryCount=0`,
      }),
    }],
  });
  const burstMs = performance.now() - burstStart;
  const refused = burst.non2xx + burst.errors;
  const inbox = `${bench.prefix}:delivery-report-inbox`;
  const drainStart = performance.now();
  while ((await redis.llen(inbox)) > 0) await new Promise((r) => setTimeout(r, 100));
  const drainMs = performance.now() - drainStart + burstMs;

  const figures = figuresOf(run, recipients);
  const results = {
    recipients,
    batchSize: BATCH,
    nodeOptions: DEPLOYED_NODE_OPTIONS,
    wallSeconds: figures.wallSeconds,
    fanOutSeconds: figures.fanOutSeconds,
    sendsDoneSeconds: figures.sendsDoneSeconds,
    reportsAppliedSeconds: figures.reportsAppliedSeconds,
    handedToGatewayPerSecond: figures.handedToGatewayPerSecond,
    final: figures.final,
    duplicatesAtGateway: figures.duplicatesAtGateway,
    safelineCpuUsPerRecipient: figures.safelineCpuUsPerRecipient,
    baselines: { bareBull: bull, rawDriver: raw },
    store: {
      cpuUsPerRecipient: round(storeUs),
      ratioToRawDriver: round(storeUs / raw.storeCpuUsPerRecipient),
      split: perRecipient(run.store, recipients),
    },
    queue: { redisCpuUsPerRecipient: round(queueUs), ratioToBareBullJob: round(queueUs / bull.redisCpuUsPerJob) },
    cpuSeconds: figures.cpuSeconds,
    peakRssMb: { ...figures.peakRssMb, mongoServer: peakRssMb(server.pid), bench: round(process.memoryUsage().rss / 1_048_576, 1) },
    rssMbByPhase: figures.rssMbByPhase,
    deliveryReportBurst: {
      posted: ids.length, refused, acceptedPerSecond: round(ids.length / (burstMs / 1_000), 0), appliedWithinSeconds: seconds(drainMs),
    },
  };
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const { store, queue, peakRssMb: peak, deliveryReportBurst: reports } = results;
  const goals = {
    wall: `${results.wallSeconds} s <= ${GOALS.wallSeconds} s: ${verdict(results.wallSeconds <= GOALS.wallSeconds)}`,
    store: `${store.ratioToRawDriver}x raw driver <= ${GOALS.storeRatio}x: ${verdict(store.ratioToRawDriver <= GOALS.storeRatio)}`,
    queue: `${queue.ratioToBareBullJob}x a bare Bull job <= ${GOALS.queueRatio}x: ${verdict(queue.ratioToBareBullJob <= GOALS.queueRatio)}`,
    rss: `api ${peak.api} MB, worker ${peak.worker} MB <= ${GOALS.peakRssMb} MB: ` +
      verdict(Math.max(peak.api, peak.worker) <= GOALS.peakRssMb),
    reports: `${reports.acceptedPerSecond}/s >= ${GOALS.reportsPerSecond}/s, all applied: ` +
      verdict(reports.acceptedPerSecond >= GOALS.reportsPerSecond && refused === 0),
    noDuplicates: verdict(results.duplicatesAtGateway === 0),
  };
  console.log(JSON.stringify({ ...results, goals }, null, 2));
  console.log(`results: ${writeResults('campaign', { ...results, goals })}`);
}

async function main(): Promise<void> {
  const gateway = text('gateway', 'africastalking');
  if (!['africastalking', 'at', 'kannel'].includes(gateway)) throw new Error('--gateway must be africastalking (at) or kannel');
  const stopping = gateway === 'kannel' ? 'Kannel, the SMPP simulator' : 'the fake gateway';
  cleanupOnSignals(`stopping safeline and ${stopping}, dropping the bench database`);
  const recipients = option('recipients', 100_000);
  const prefix = `bench_campaign_${Date.now()}_${process.pid}`;
  const redis = new Redis(REDIS_URL);
  onCleanup(async () => {
    const n = await scanDelete(redis, `${prefix}*`);
    console.log(`deleted ${n} Redis keys ${prefix}*`);
    redis.disconnect();
  });
  const { server } = await startMongoOnFreshPostgres('campaign');
  const client = await MongoClient.connect(server.uri, { retryWrites: false });
  onCleanup(() => client.close());
  const bench = { recipients, prefix, redis, client, server };
  await (gateway === 'kannel' ? kannelBench(bench) : atBench(bench));
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
