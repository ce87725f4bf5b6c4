/**
 * npm run bench:hotline [-- --sessions 200 --seconds 60 --think-ms 1000]
 *
 * How long a caller's confirmed callback request takes to reach the agents' queue while 200 USSD
 * sessions run at once. safeline runs as in production: an api process and a worker process
 * (node src/main.ts api|worker), on the MongoDB-compatible server over a fresh PostgreSQL database
 * and the machine's Redis (every key under a prefix of its own, deleted at the end).
 *
 * Each virtual caller is a new number that dials, picks a language, asks for a callback (topic,
 * window, no SMS) and confirms; it waits --think-ms between screens, then starts again. A poller
 * reads the queue's collection every 50 ms by `_id`; "confirmation to queue" runs from the moment
 * the confirming hop was sent to the first poll that sees the request (so it includes up to 50 ms
 * of polling).
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { generateSecrets } from '../src/config/generated-secrets';
import { freePort } from '../src/dev-services/free-port';
import {
  cleanup, cleanupOnSignals, onCleanup, scanDelete, startMongoOnFreshPostgres, startSafelineProcess, stats, waitReady, withTimeout, writeResults,
} from './support';

const REDIS_URL = 'redis://127.0.0.1:6379';
const GOAL_P99_MS = 2_000;
const HOPS = ['', '1', '3', '1', '2', '1']; // dial, French, callback, topic "case", midday, no SMS

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
  return value;
}


async function main(): Promise<void> {
  cleanupOnSignals('stopping safeline and dropping the bench database');
  const sessions = option('sessions', 200);
  const seconds = option('seconds', 60);
  const thinkMs = option('think-ms', 1_000);
  const runTag = `${Date.now()}_${process.pid}`;
  const queuePrefix = `bench_hotline_${runTag}`;
  const redis = new Redis(REDIS_URL);
  onCleanup(async () => {
    const n = await scanDelete(redis, `${queuePrefix}:*`);
    console.log(`deleted ${n} Redis keys ${queuePrefix}:*`);
    redis.disconnect();
  });

  const { server } = await startMongoOnFreshPostgres('hotline');
  const mongodbUri = `${server.uri}bench_hotline`;
  const secrets = generateSecrets();
  const apiPort = await freePort();
  const common = { ...process.env, ...secrets, MONGODB_URI: mongodbUri, REDIS_URL, QUEUE_PREFIX: queuePrefix, HOST: '127.0.0.1', CALLBACK_ALLOWED_IPS: '127.0.0.1,::1', LOG_LEVEL: 'warn', SMS_GATEWAY: 'emulator' };
  startSafelineProcess('api', { ...common, PORT: String(apiPort) });
  const worker = await freePort();
  startSafelineProcess('worker', { ...common, PORT: String(worker) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([waitReady(apiUrl), waitReady(`http://127.0.0.1:${worker}`)]);
  console.log(`safeline api ${apiUrl} + worker; ${sessions} sessions for ${seconds} s, ${thinkMs} ms between screens`);

  const client = await MongoClient.connect(mongodbUri, { retryWrites: false });
  onCleanup(() => client.close());
  const requests = client.db().collection<{ _id: string }>('callback_requests');

  const confirmedAt = new Map<string, number>(); // reference -> when the confirming hop was sent
  const seenAfter: number[] = [];
  const hopMs: number[] = [];
  let errors = 0;
  let polling = true;
  let stoppedAt = 0;
  const poller = (async () => {
    while (polling || confirmedAt.size > 0) {
      const pending = [...confirmedAt.keys()];
      if (pending.length) {
        const found = await requests.find({ _id: { $in: pending } }, { projection: { _id: 1 } }).toArray();
        const now = performance.now();
        for (const { _id } of found) {
          const sent = confirmedAt.get(_id);
          if (sent !== undefined) seenAfter.push(now - sent);
          confirmedAt.delete(_id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!polling && performance.now() - stoppedAt > 60_000) break;
    }
  })();

  const deadline = performance.now() + seconds * 1_000;
  let phoneCounter = 0;
  const virtualCaller = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const phone = `+2237${String(1_000_000 + (phoneCounter += 1)).slice(-7)}`;
      const sessionId = `ATUid_bench_${randomUUID()}`;
      const typed: string[] = [];
      for (const [index, input] of HOPS.entries()) {
        if (index > 0) typed.push(input);
        const sent = performance.now();
        try {
          const res = await fetch(`${apiUrl}/ussd?token=${encodeURIComponent(secrets.USSD_CALLBACK_TOKEN)}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ sessionId, serviceCode: '*321#', phoneNumber: phone, networkCode: '61002', text: typed.join('*') }).toString(),
            signal: AbortSignal.timeout(10_000),
          });
          const body = await res.text();
          hopMs.push(performance.now() - sent);
          if (index === HOPS.length - 1) {
            const ref = /([2-9A-HJKMNP-TV-Z]{6})\s*$/.exec(body)?.[1];
            if (res.status !== 200 || !body.startsWith('END ') || !ref) errors += 1;
            else confirmedAt.set(ref, sent);
          } else if (!body.startsWith('CON ')) errors += 1;
        } catch {
          errors += 1;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, thinkMs * (0.5 + Math.random())));
      }
    }
  };
  await Promise.all(Array.from({ length: sessions }, () => virtualCaller()));
  polling = false;
  stoppedAt = performance.now();
  const confirmed = seenAfter.length + confirmedAt.size;
  await withTimeout(poller, 90_000, 'waiting for the last requests');

  const latency = stats(seenAfter);
  const results = {
    sessions,
    seconds,
    thinkMs,
    confirmed,
    reachedQueue: seenAfter.length,
    neverSeen: confirmedAt.size,
    hopErrors: errors,
    hop: stats(hopMs),
    confirmationToQueue: latency,
    goal: { p99Ms: GOAL_P99_MS, verdict: latency.p99Ms <= GOAL_P99_MS && confirmedAt.size === 0 ? 'PASS' : 'FAIL' },
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(`results: ${writeResults('hotline', results)}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
