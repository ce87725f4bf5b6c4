/**
 * `npm run bench:store`: the message store's hot paths on the project's MongoDB-compatible server
 * (tools/mongo-server: FerretDB 1.24.2, patched) over PostgreSQL, at 50,000 per-recipient message
 * documents:
 *   - findOne by _id (500 random lookups: mean, p50, p99) — the goal: p50 <= 2 ms;
 *   - findOne by another field (a baseline: FerretDB scans the collection for it);
 *   - one bulkWrite of 2,000 updateOne-by-_id operations (all 2,000 must be modified).
 * It creates a fresh PostgreSQL database (127.0.0.1:5432, trust auth as postgres) and drops it at
 * the end, even on error. Results: a table on stdout and bench/results/store.json.
 * Exits non-zero if anything fails, including a bulkWrite that does not complete or miscounts.
 */
import mongoose from 'mongoose';
import { cleanup, cleanupOnSignals, onCleanup, prng, startMongoOnFreshPostgres, stats, timed, withTimeout, writeResults } from './support';

const DOCUMENTS = 50_000;
const INSERT_BATCH = 1_000;
const CAMPAIGNS = 5;
const ID_LOOKUPS = 500;
const FIELD_LOOKUPS = 20;
const BULK_UPDATES = 2_000;
const BULK_TIMEOUT_MS = 180_000;
const GOAL_P50_MS = 2;

/** One SMS to one recipient of a campaign, as the message store keeps it. */
interface MessageDoc {
  _id: string;
  campaignId: string;
  subscriberId: string;
  msisdn: string;
  channel: 'sms';
  language: 'en' | 'sw' | 'fr';
  templateKey: string;
  body: string;
  status: 'queued' | 'sent' | 'delivered' | 'failed';
  attempts: number;
  providerMessageId: string | null;
  providerStatus: string | null;
  cost: string | null;
  day: string;
  createdAt: Date;
  updatedAt: Date;
}

function campaignId(c: number): string {
  return (0x65a1f0c2e4b0a1b2c3d4e5f0n + BigInt(c)).toString(16).padStart(24, '0');
}

function messageId(i: number): string {
  const c = i % CAMPAIGNS;
  return `${campaignId(c)}:sub${String(Math.floor(i / CAMPAIGNS)).padStart(7, '0')}`;
}

function makeMessage(i: number, now: Date): MessageDoc {
  const c = i % CAMPAIGNS;
  const subscriber = Math.floor(i / CAMPAIGNS);
  const language = (['en', 'sw', 'fr'] as const)[i % 3] ?? 'en';
  return {
    _id: messageId(i),
    campaignId: campaignId(c),
    subscriberId: `sub${String(subscriber).padStart(7, '0')}`,
    msisdn: `+2547${String(10_000_000 + i).slice(-8)}`,
    channel: 'sms',
    language,
    templateKey: `campaign-${c}-awareness`,
    body: `Safeline: a job offer abroad that asks you to pay fees or hand over your passport may be trafficking. Call 116 free, 24h. Ref ${i}`,
    status: 'queued',
    attempts: 0,
    providerMessageId: null,
    providerStatus: null,
    cost: null,
    day: now.toISOString().slice(0, 10),
    createdAt: now,
    updatedAt: now,
  };
}

cleanupOnSignals('stopping the server and dropping the database');

async function main(): Promise<void> {
  const random = prng(20_251_129);
  const { server, pgVersion } = await startMongoOnFreshPostgres('store');

  const client = new mongoose.mongo.MongoClient(`${server.uri}bench`, { retryWrites: false, serverSelectionTimeoutMS: 15_000 });
  await client.connect();
  onCleanup(() => client.close(true));
  const messages = client.db().collection<MessageDoc>('messages');

  // Load.
  const now = new Date();
  const [, insertMs] = await timed(async () => {
    for (let start = 0; start < DOCUMENTS; start += INSERT_BATCH) {
      const batch = Array.from({ length: Math.min(INSERT_BATCH, DOCUMENTS - start) }, (_, k) => makeMessage(start + k, now));
      const res = await messages.insertMany(batch, { ordered: true });
      if (res.insertedCount !== batch.length) throw new Error(`insertMany inserted ${res.insertedCount} of ${batch.length}`);
    }
  });
  const count = await messages.countDocuments({});
  if (count !== DOCUMENTS) throw new Error(`expected ${DOCUMENTS} documents, found ${count}`);
  console.log(`inserted ${DOCUMENTS} documents in ${(insertMs / 1000).toFixed(1)} s`);

  // findOne by _id.
  const pick = (): number => Math.floor(random() * DOCUMENTS);
  for (let k = 0; k < 20; k++) await messages.findOne({ _id: messageId(pick()) }); // warm-up
  const idSamples: number[] = [];
  for (let k = 0; k < ID_LOOKUPS; k++) {
    const id = messageId(pick());
    const [doc, ms] = await timed(() => messages.findOne({ _id: id }));
    if (doc?._id !== id) throw new Error(`findOne({_id: ${id}}) returned ${JSON.stringify(doc?._id)}`);
    idSamples.push(ms);
  }
  const byId = stats(idSamples);

  // findOne by a non-_id field (baseline: a scan of the collection).
  const fieldSamples: number[] = [];
  for (let k = 0; k < FIELD_LOOKUPS; k++) {
    const i = pick();
    const msisdn = makeMessage(i, now).msisdn;
    const [doc, ms] = await timed(() => messages.findOne({ msisdn }));
    if (doc?._id !== messageId(i)) throw new Error(`findOne({msisdn: ${msisdn}}) returned ${JSON.stringify(doc?._id)}`);
    fieldSamples.push(ms);
  }
  const byField = stats(fieldSamples);

  // One bulkWrite of updateOne by _id (delivery reports / send results).
  const chosen = new Set<number>();
  while (chosen.size < BULK_UPDATES) chosen.add(pick());
  const updatedAt = new Date();
  const ops = [...chosen].map((i) => ({
    updateOne: {
      filter: { _id: messageId(i) },
      update: { $set: { status: 'sent' as const, providerMessageId: `ATXid_${i}`, providerStatus: 'Success', cost: 'KES 0.8000', updatedAt }, $inc: { attempts: 1 } },
    },
  }));
  const [bulk, bulkMs] = await timed(() => withTimeout(messages.bulkWrite(ops, { ordered: false }), BULK_TIMEOUT_MS, `bulkWrite of ${BULK_UPDATES} updates`));
  const sent = await messages.countDocuments({ status: 'sent' });
  const bulkOk = bulk.matchedCount === BULK_UPDATES && bulk.modifiedCount === BULK_UPDATES && sent === BULK_UPDATES;

  const pass = byId.p50Ms <= GOAL_P50_MS;
  const results = {
    benchmark: 'store',
    at: new Date().toISOString(),
    server: 'tools/mongo-server (FerretDB 1.24.2, patched)',
    backend: `PostgreSQL ${pgVersion}`,
    node: process.version,
    documents: DOCUMENTS,
    insert: { batch: INSERT_BATCH, ms: Math.round(insertMs), docsPerSecond: Math.round(DOCUMENTS / (insertMs / 1000)) },
    findOneById: byId,
    findOneByField: { field: 'msisdn', ...byField },
    bulkWrite: { updates: BULK_UPDATES, ms: Math.round(bulkMs), matched: bulk.matchedCount, modified: bulk.modifiedCount, countedAfter: sent, ok: bulkOk },
    goal: { findOneByIdP50MaxMs: GOAL_P50_MS, pass },
  };

  const row = (name: string, n: number | string, mean: string, p50: string, p99: string, max: string): string =>
    `${name.padEnd(34)}${String(n).padStart(6)}${mean.padStart(11)}${p50.padStart(11)}${p99.padStart(11)}${max.padStart(11)}`;
  const f = (x: number): string => x.toFixed(2);
  console.log('');
  console.log(`store benchmark: ${DOCUMENTS} messages, FerretDB 1.24.2 (patched) on PostgreSQL ${pgVersion}`);
  console.log(row('operation', 'n', 'mean ms', 'p50 ms', 'p99 ms', 'max ms'));
  console.log('-'.repeat(84));
  console.log(row('findOne by _id', byId.n, f(byId.meanMs), f(byId.p50Ms), f(byId.p99Ms), f(byId.maxMs)));
  console.log(row('findOne by msisdn (scan, baseline)', byField.n, f(byField.meanMs), f(byField.p50Ms), f(byField.p99Ms), f(byField.maxMs)));
  console.log(`${'bulkWrite updateOne by _id'.padEnd(34)}${String(BULK_UPDATES).padStart(6)}   ${(bulkMs / 1000).toFixed(2)} s wall, matched ${bulk.matchedCount}, modified ${bulk.modifiedCount}, counted ${sent}`);
  console.log(`${'insertMany (batches of 1,000)'.padEnd(34)}${String(DOCUMENTS).padStart(6)}   ${(insertMs / 1000).toFixed(2)} s wall, ${results.insert.docsPerSecond} docs/s`);
  console.log('');
  console.log(`goal: findOne by _id p50 <= ${GOAL_P50_MS} ms -> ${pass ? 'PASS' : 'FAIL'}`);

  console.log(`results: ${writeResults('store', results)}`);

  if (!bulkOk) {
    throw new Error(`bulkWrite counts are wrong: matched ${bulk.matchedCount}, modified ${bulk.modifiedCount}, status 'sent' afterwards ${sent}; expected ${BULK_UPDATES} each`);
  }
}

main()
  .catch((err: unknown) => {
    console.error(`bench:store failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()))
  .catch(() => undefined);
