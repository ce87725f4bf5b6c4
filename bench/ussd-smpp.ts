/**
 * `npm run bench:ussd-smpp [-- --sessions 200 --seconds 30 --think-ms 500]`: USSD over SMPP through Kannel, as
 * deployed: safeline's api and worker processes (`node src/main.ts api|worker`) on the MongoDB-compatible server
 * over a fresh PostgreSQL database and the machine's Redis; Kannel 1.4.5's bearerbox + smsbox (src/dev-services/
 * kannel.ts, the USSD groups of tests/support/kannel-ussd.ts) bound to an SMPP simulator of an operator's USSD
 * gateway (tests/support/ussd-smsc-simulator.ts) in this process. `--sessions` virtual phones each play whole
 * sessions, one after the other: a new number and new session bytes, dial (op 1), then French, callback, a topic,
 * midday, no SMS (op 18 each), the last screen with its code (op 17), waiting `--think-ms` (0.5x to 1.5x) between
 * screens. Latency is each hop's, from the deliver_sm the simulator sends to the submit_sm that answers it.
 * Every screen is checked: op 2 on a menu, 17 on the last, the session echoed.
 *
 * Goal: p99 <= 200 ms at 200 concurrent sessions. Results: stdout and bench/results/ussd-smpp.json.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { generateSecrets } from '../src/config/generated-secrets';
import { freePort } from '../src/dev-services/free-port';
import { startKannel } from '../src/dev-services/kannel';
import { ussdKannelConf } from '../tests/support/kannel-ussd';
import { startUssdSmscSimulator, type UssdScreen } from '../tests/support/ussd-smsc-simulator';
import {
  cleanup, cleanupOnSignals, onCleanup, processCpuMs, scanDelete, startMongoOnFreshPostgres, startSafelineProcess, stats, waitReady, writeResults,
} from './support';

const REDIS_URL = 'redis://127.0.0.1:6379';
const GOAL_P99_MS = 200;
const INPUTS = ['1', '3', '1', '2', '1']; // after the dial: French, callback, topic "case", midday, no SMS
const SMSC = 'ussd-bench';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
}


async function main(): Promise<void> {
  cleanupOnSignals('stopping Kannel and safeline, dropping the bench database');
  const sessions = option('sessions', 200);
  const seconds = option('seconds', 30);
  const thinkMs = option('think-ms', 500);
  const runTag = `${Date.now()}_${process.pid}`;
  const queuePrefix = `bench_ussd_smpp_${runTag}`;
  const redis = new Redis(REDIS_URL);
  onCleanup(async () => {
    const n = await scanDelete(redis, `${queuePrefix}:*`);
    console.log(`deleted ${n} Redis keys ${queuePrefix}:*`);
    redis.disconnect();
  });

  const { server } = await startMongoOnFreshPostgres('ussd_smpp');
  const secrets = generateSecrets();
  const apiPort = await freePort();
  const common = {
    ...process.env,
    ...secrets,
    MONGODB_URI: `${server.uri}bench_ussd_smpp`,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    HOST: '127.0.0.1',
    CALLBACK_ALLOWED_IPS: '127.0.0.1,::1',
    LOG_LEVEL: 'warn',
    SMS_GATEWAY: 'emulator',
    USSD_KANNEL_SMSC_IDS: SMSC,
  };
  const api = startSafelineProcess('api', { ...common, PORT: String(apiPort) });
  const workerPort = await freePort();
  startSafelineProcess('worker', { ...common, PORT: String(workerPort) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([waitReady(apiUrl), waitReady(`http://127.0.0.1:${workerPort}`)]);

  const gateway = await startUssdSmscSimulator({ name: SMSC });
  onCleanup(() => gateway.close());
  const kannel = await startKannel({
    smscs: [gateway],
    moUrl: `${apiUrl}/sms/not-here?from=%p`,
    extraConf: ussdKannelConf({ binds: [gateway], safelineUrl: apiUrl, token: secrets.USSD_CALLBACK_TOKEN }),
    dir: join('/tmp', `safeline-bench-kannel-${runTag}`),
  });
  onCleanup(() => kannel.stop(), { first: true });
  console.log(
    `safeline api ${apiUrl} + worker, Kannel ${kannel.adminUrl}; ${sessions} sessions for ${seconds} s, ${thinkMs} ms between screens`,
  );

  const dialMs: number[] = [];
  const answerMs: number[] = [];
  let errors = 0;
  let completed = 0;
  const firstErrors: string[] = [];
  let phoneSeq = 0;
  const check = (screen: UssdScreen, session: Buffer, op: number, what: string): void => {
    if (screen.op === op && screen.session?.equals(session)) return;
    errors += 1;
    if (firstErrors.length < 5) firstErrors.push(`${what}: op ${screen.op}, ${screen.text.slice(0, 40)}`);
  };
  const deadline = performance.now() + seconds * 1_000;
  const virtualPhone = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const phone = `+2237${String(1_000_000 + (phoneSeq += 1)).padStart(7, '0')}`;
      const session = randomBytes(2);
      try {
        const first = await gateway.dial(phone, session, '*384#');
        dialMs.push(first.ms);
        check(first, session, 2, 'dial');
        for (const [index, input] of INPUTS.entries()) {
          await new Promise((resolve) => setTimeout(resolve, thinkMs * (0.5 + Math.random())));
          const screen = await gateway.answer(phone, session, input);
          answerMs.push(screen.ms);
          check(screen, session, index === INPUTS.length - 1 ? 17 : 2, `hop ${index + 1}`);
        }
        completed += 1;
      } catch (err) {
        errors += 1;
        if (firstErrors.length < 5) firstErrors.push((err as Error).message);
      }
    }
  };
  const cpuBefore = processCpuMs(api.pid) ?? 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, (_, i) => new Promise((resolve) => setTimeout(resolve, (i * thinkMs) / sessions)).then(virtualPhone)),
  );
  const elapsedS = (performance.now() - started) / 1_000;
  const apiCpuMs = (processCpuMs(api.pid) ?? 0) - cpuBefore;

  const all = stats([...dialMs, ...answerMs]);
  const results = {
    sessions,
    seconds,
    thinkMs,
    completedSessions: completed,
    hops: dialMs.length + answerMs.length,
    hopsPerSecond: Math.round((dialMs.length + answerMs.length) / elapsedS),
    errors,
    firstErrors,
    dialToReply: stats(dialMs),
    answerToReply: stats(answerMs),
    everyHop: all,
    apiCpuMsPerHop: Number((apiCpuMs / Math.max(1, dialMs.length + answerMs.length)).toFixed(3)),
    goal: { p99Ms: GOAL_P99_MS, verdict: all.p99Ms <= GOAL_P99_MS && errors === 0 ? 'PASS' : 'FAIL' },
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(`results: ${writeResults('ussd-smpp', results)}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
