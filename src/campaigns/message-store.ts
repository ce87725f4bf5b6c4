import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import type { RunProgress } from './run-progress';

/** One recipient of one run: written by the fan-out, unique on (run, subscriber). */
export interface CampaignMessage {
  _id: string; // `${runId}:${subscriberHash}`
  campaign: string;
  run: string;
  subscriber: string;
  language: string;
  batch: string;
  createdAt: Date;
}

export interface BatchRecipient {
  message: string;
  subscriber: string;
  sealed: string;
}

/** Up to N recipients who get the same text: the unit a send job claims, sends and records. */
export interface CampaignBatch {
  _id: string;
  campaign: string;
  run: string;
  language: string;
  /** The SMS route every recipient's number takes (one route per batch: one ceiling, one gateway); absent on older batches. */
  route?: string;
  text: string;
  recipients: BatchRecipient[];
  /** queued -> sending -> done; "sending" found by a retry means a worker died mid-send. */
  status: 'queued' | 'sending' | 'done' | 'cancelled';
  /** Retries of this batch's transient failures (0 for the first send). */
  retry: number;
  updatedAt: Date;
}

/** What became of one recipient. Accepted sends are keyed by the gateway's messageId, so a delivery report finds them by `_id`. */
export interface SendResult {
  _id: string; // messageId when accepted, else `x:${message}`
  message: string;
  campaign: string;
  run: string;
  subscriber: string;
  outcome: 'accepted' | 'failed' | 'opted_out' | 'unknown' | 'cancelled';
  /** An unknown linked back by its delivery report: the gateway's messageId (`_id` stays `x:...`). */
  messageId?: string;
  statusCode: number;
  status: string;
  cost: number;
  parts: number;
  at: Date;
}

/** One delivery report, kept as received; `_id` = messageId:status makes a resent report a no-op. */
export interface DeliveryReport {
  _id: string;
  messageId: string;
  status: string;
  final: boolean;
  failureReason: string;
  run: string | null;
  at: Date;
}

/** A run's counters as they stood when it ended, then as they were final (after its report period). */
export interface RunFigures {
  _id: string; // the run
  campaign: string;
  figures: RunProgress;
  /** True once the report period is over: the figures no longer change. */
  final: boolean;
  at: Date;
}

const isDuplicateKey = (err: unknown): boolean => {
  const e = err as { code?: unknown; writeErrors?: Array<{ code?: unknown; err?: { code?: unknown } }> } | null;
  if (Array.isArray(e?.writeErrors) && e.writeErrors.length > 0) {
    return e.writeErrors.every((w) => w.code === 11000 || w.err?.code === 11000);
  }
  return e?.code === 11000;
};

/**
 * The per-recipient records of campaigns. The server used here makes an insert about 16 times
 * cheaper than an update, so the pipeline inserts: one message per recipient, one result per
 * recipient, one document per delivery report; only a batch (100 recipients) is ever updated.
 */
export function createMessageStore(connection: Connection) {
  const opts = { versionKey: false, minimize: false } as const;
  const messages = modelOn<CampaignMessage>(
    connection,
    'CampaignMessage',
    () =>
      new Schema<CampaignMessage>(
        { _id: String, campaign: String, run: String, subscriber: String, language: String, batch: String, createdAt: Date },
        { ...opts, collection: 'campaign_messages' },
      ),
  );
  const batches = modelOn<CampaignBatch>(connection, 'CampaignBatch', () =>
    new Schema<CampaignBatch>(
      {
        _id: String, campaign: String, run: String, language: String, route: String, text: String,
        recipients: [{ _id: false, message: String, subscriber: String, sealed: String }],
        status: String, retry: Number, updatedAt: Date,
      },
      { ...opts, collection: 'campaign_batches' },
    ),
  );
  const results = modelOn<SendResult>(
    connection,
    'SendResult',
    () =>
      new Schema<SendResult>(
        {
          _id: String,
          message: String,
          campaign: String,
          run: String,
          subscriber: String,
          outcome: String,
          messageId: String,
          statusCode: Number,
          status: String,
          cost: Number,
          parts: Number,
          at: Date,
        },
        { ...opts, collection: 'campaign_send_results' },
      ),
  );
  const reports = modelOn<DeliveryReport>(
    connection,
    'DeliveryReport',
    () =>
      new Schema<DeliveryReport>(
        { _id: String, messageId: String, status: String, final: Boolean, failureReason: String, run: String, at: Date },
        { ...opts, collection: 'delivery_reports' },
      ),
  );
  const figures = modelOn<RunFigures>(
    connection,
    'RunFigures',
    () =>
      new Schema<RunFigures>(
        { _id: String, campaign: String, figures: Schema.Types.Mixed, final: Boolean, at: Date },
        { ...opts, collection: 'campaign_run_figures' },
      ),
  );

  /** insertMany that treats "already there" as done: re-running a step writes nothing twice. Returns how many were new. */
  async function insertAll<T>(
    model: { insertMany(docs: T[], options: { ordered: false; lean: true }): Promise<unknown> },
    docs: T[],
  ): Promise<number> {
    if (docs.length === 0) return 0;
    try {
      await model.insertMany(docs, { ordered: false, lean: true });
      return docs.length;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const failed = (err as { writeErrors?: unknown[] }).writeErrors?.length ?? docs.length;
      return docs.length - failed;
    }
  }

  /** The same, returning the `_id`s it wrote now: what was already there (or twice in `docs`) is left out. */
  async function insertNew<T extends { _id: string }>(
    model: { insertMany(docs: T[], options: { ordered: false; lean: true }): Promise<unknown> },
    docs: T[],
  ): Promise<string[]> {
    if (docs.length === 0) return [];
    try {
      await model.insertMany(docs, { ordered: false, lean: true });
      return docs.map((doc) => doc._id);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const refused = ((err as { writeErrors?: Array<{ index?: number; err?: { index?: number } }> }).writeErrors ?? []).map(
        (w) => w.index ?? w.err?.index,
      );
      // Without the positions of the refused, nothing can be said to be new: claim none rather than too many.
      if (refused.some((index) => typeof index !== 'number')) return [];
      const skip = new Set(refused);
      return docs.filter((_, i) => !skip.has(i)).map((doc) => doc._id);
    }
  }

  return {
    insertMessages: (docs: CampaignMessage[]) => insertAll(messages, docs),
    insertBatch: (batch: CampaignBatch) => insertAll(batches, [batch]),
    getBatch: async (id: string): Promise<CampaignBatch | undefined> =>
      (await batches.findById(id).lean<CampaignBatch>().exec()) ?? undefined,
    async setBatchStatus(id: string, status: CampaignBatch['status'], at: Date): Promise<void> {
      await batches.updateOne({ _id: id }, { $set: { status, updatedAt: at } });
    },
    /** A run's batches still to send, for resume and cancel, without their recipients (a paused campaign of a million has ten thousand). */
    pendingBatches: async (run: string): Promise<Array<Pick<CampaignBatch, '_id' | 'status'>>> =>
      batches
        .find({ run, status: { $in: ['queued', 'sending'] } }, { _id: 1, status: 1 })
        .lean<Array<Pick<CampaignBatch, '_id' | 'status'>>>()
        .exec(),
    insertResults: (docs: SendResult[]) => insertAll(results, docs),
    /** Stores reports once per (messageId, status); returns the `_id`s stored by this call. */
    insertReports: (docs: DeliveryReport[]) => insertNew(reports, docs),
    /** An unknown send whose delivery report came: it was accepted under this messageId (idempotent). */
    async linkUnknownResult(message: string, messageId: string): Promise<void> {
      await results.updateOne(
        { _id: `x:${message}`, outcome: 'unknown' },
        { $set: { outcome: 'accepted', messageId, status: 'Accepted (found by its delivery report)' } },
      );
    },
    /** Results already recorded for these messages (a rare path: only after a worker died mid-send). */
    resultsOfBatch: (messageIds: readonly string[]): Promise<SendResult[]> =>
      results
        .find({ message: { $in: messageIds } })
        .lean<SendResult[]>()
        .exec(),
    resultsOfRun: (run: string): Promise<SendResult[]> => results.find({ run }).lean<SendResult[]>().exec(),
    reportsOfRun: (run: string): Promise<DeliveryReport[]> => reports.find({ run }).lean<DeliveryReport[]>().exec(),
    async saveRunFigures(doc: RunFigures): Promise<void> {
      await figures.updateOne(
        { _id: doc._id },
        { $set: { campaign: doc.campaign, figures: doc.figures, final: doc.final, at: doc.at } },
        { upsert: true },
      );
    },
    /** The kept figures of these runs, by run. */
    async runFigures(runs: readonly string[]): Promise<Map<string, RunProgress>> {
      if (runs.length === 0) return new Map();
      const found = await figures.find({ _id: { $in: runs } }).lean<RunFigures[]>().exec();
      return new Map(found.map((doc) => [doc._id, doc.figures]));
    },
    /** Accepted sends in [from, to), counted per recipient and campaign: who was reached, by whom. */
    async acceptedByRecipient(from: Date, to: Date): Promise<Array<{ subscriber: string; campaign: string; messages: number }>> {
      const rows = await results.aggregate<{ _id: { subscriber: string; campaign: string }; messages: number }>([
        { $match: { outcome: 'accepted', at: { $gte: from, $lt: to } } },
        { $group: { _id: { subscriber: '$subscriber', campaign: '$campaign' }, messages: { $sum: 1 } } },
      ]).exec();
      return rows.map((row) => ({ subscriber: row._id.subscriber, campaign: row._id.campaign, messages: row.messages }));
    },
    /**
     * Messages whose delivery report said delivered ("Success") in [from, to), each with its recipient and
     * campaign: two reads by key instead of a join (the test server has no $lookup).
     */
    async deliveredBetween(from: Date, to: Date): Promise<Array<{ subscriber: string; campaign: string }>> {
      const delivered = await reports
        .find({ status: 'Success', at: { $gte: from, $lt: to } }, { messageId: 1 })
        .lean<Array<Pick<DeliveryReport, 'messageId'>>>()
        .exec();
      const ids = [...new Set(delivered.map((report) => report.messageId))];
      const found: Array<Pick<SendResult, '_id' | 'messageId' | 'subscriber' | 'campaign'>> = [];
      const projection = { _id: 1, messageId: 1, subscriber: 1, campaign: 1 };
      for (let i = 0; i < ids.length; i += 1_000) {
        const chunk = ids.slice(i, i + 1_000);
        const direct = await results.find({ _id: { $in: chunk } }, projection).lean<typeof found>().exec();
        const seen = new Set(direct.map((result) => result._id));
        // An unknown send linked by its report keeps its `x:` key and carries the messageId in a field.
        const missing = chunk.filter((id) => !seen.has(id));
        const linked = missing.length ? await results.find({ messageId: { $in: missing } }, projection).lean<typeof found>().exec() : [];
        found.push(...direct, ...linked);
      }
      return found.map((result) => ({ subscriber: result.subscriber, campaign: result.campaign }));
    },
    countMessages: (run: string): Promise<number> => messages.countDocuments({ run }).exec(),
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;
