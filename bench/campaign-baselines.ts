/**
 * bench:campaign's two baselines, run before safeline starts (so they change none of its figures):
 * bare Bull (empty jobs) for the queue's cost, the raw MongoDB driver writing the pipeline's documents for the
 * store's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Queue from 'bull';
import Redis from 'ioredis';
import type { MongoClient } from 'mongodb';
import { BATCH, perRecipient, REDIS_URL, round, storeCpu, storeCpuSince, TEXT, type StoreCpu } from './campaign-run';
import { redisCpuMs } from './support';

/** Bare Bull: empty jobs, added in bulk, processed 4 at a time. */
export async function bareBull(redis: Redis, prefix: string, jobs: number): Promise<{ jobsPerSecond: number; redisCpuUsPerJob: number }> {
  const queue = new Queue<{ i: number }>('bare', {
    prefix,
    createClient: () => new Redis(REDIS_URL, { maxRetriesPerRequest: null, enableReadyCheck: false }),
  });
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
  for (let i = 0; i < jobs; i += 1_000) {
    const bulk = Array.from({ length: Math.min(1_000, jobs - i) }, (_, j) => ({ data: { i: i + j }, opts: { removeOnComplete: true } }));
    await queue.addBulk(bulk);
  }
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
export async function rawDriver(
  client: MongoClient,
  audienceDb: string,
  database: string,
  mongoPid: number,
  recipients: number,
): Promise<{ recipientsPerSecond: number; storeCpuUsPerRecipient: number; split: StoreCpu }> {
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
  const subscribers = client.db(audienceDb).collection<AudienceRow>('subscribers');
  const query = { 'consent.status': 'opted_in', flagged: null, language: { $in: ['fr'] } };
  const projection = { _id: 1, phoneSealed: 1, language: 1 };
  for await (const subscriber of subscribers.find(query, { projection }).batchSize(1_000)) audience.push(subscriber);
  if (audience.length !== recipients) throw new Error(`raw baseline read ${audience.length} subscribers, expected ${recipients}`);
  for (let b = 0; b < recipients; b += BATCH) {
    const chunk = audience.slice(b, b + BATCH);
    const batch = `${run}:${chunk[0]?._id ?? ''}`;
    const rows = chunk.map((row) => ({ message: `${run}:${row._id}`, subscriber: row._id, sealed: row.phoneSealed }));
    const batches = db.collection('campaign_batches');
    await batches.insertOne({
      _id: batch as never, campaign, run, language: 'fr', text: TEXT, recipients: rows, status: 'queued', retry: 0, updatedAt: now,
    });
    await db.collection('campaign_messages').insertMany(
      rows.map((row) => ({ _id: row.message as never, campaign, run, subscriber: row.subscriber, language: 'fr', batch, createdAt: now })),
      { ordered: false },
    );
    await batches.updateOne({ _id: batch as never }, { $set: { status: 'sending', updatedAt: now } });
    await db.collection('campaign_send_results').insertMany(
      rows.map((row, i) => ({
        _id: messageIdOf(b + i) as never, message: row.message, campaign, run, subscriber: row.subscriber,
        outcome: 'accepted', statusCode: 101, status: 'Success', cost: 20, parts: 1, at: now,
      })),
      { ordered: false },
    );
    await batches.updateOne({ _id: batch as never }, { $set: { status: 'done', updatedAt: now } });
  }
  for (let i = 0; i < recipients; i += 1_000) {
    const ids = Array.from({ length: Math.min(1_000, recipients - i) }, (_, j) => messageIdOf(i + j));
    await db.collection('delivery_reports').insertMany(
      ids.map((id) => ({ _id: `${id}:Success` as never, messageId: id, status: 'Success', final: true, failureReason: '', run, at: now })),
      { ordered: false },
    );
  }
  const ms = performance.now() - started;
  const used = storeCpuSince(mongoPid, cpu0);
  await db.dropDatabase();
  return {
    recipientsPerSecond: round(recipients / (ms / 1_000), 0),
    storeCpuUsPerRecipient: round((used.total * 1_000) / recipients),
    split: perRecipient(used, recipients),
  };
}
