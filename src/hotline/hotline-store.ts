import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from '../platform/mongo';
import { CLOSED_STATUSES, OPEN_STATUSES, type RequestStatus } from './callback-policy';

/** An anonymous report of a suspected case: no phone number, ever. */
export interface CaseReport {
  _id: string; // the reference code the caller was given
  kind: string;
  region: string;
  urgency: string;
  /** The caller also asked for a callback: its request carries the same reference (or joined an open one). */
  wantsCallback: boolean;
  channel: 'ussd' | 'sms';
  createdAt: Date;
  /** "YYYY-MM-DD" (Africa/Bamako = UTC): grouping by day without date operators the test server lacks. */
  day: string;
}

export interface CallAttempt {
  at: Date;
  by: string;
  byName: string;
  outcome: string;
  note: string;
}

/** A request to be called back. The number is sealed (AES-256-GCM) and found by its keyed hash. */
export interface CallbackRequest {
  _id: string; // reference code
  /** Both null once the retention purge has run. */
  phoneHash: string | null;
  phoneSealed: string | null;
  language: string;
  window: string;
  topic: string;
  urgency: string;
  /** 0 = child in danger: the queue sorts on it. */
  urgencyRank: number;
  region: string;
  confirmBySms: boolean;
  channel: 'ussd' | 'sms';
  status: RequestStatus;
  createdAt: Date;
  /** When the worker wrote it: the queue entry's own time. */
  queuedAt: Date;
  day: string;
  dueAt: Date;
  /** Later requests from the same number that joined this one (their reference codes). */
  joined: Array<{ reference: string; at: Date; channel: string }>;
  claimedBy: string | null;
  claimedByName: string | null;
  claimedAt: Date | null;
  attempts: CallAttempt[];
  firstAttemptAt: Date | null;
  closedAt: Date | null;
  closedBy: string | null;
  outcome: string | null;
  closingNote: string;
  /** Set once the agents on duty were alerted, so a replayed event alerts no one twice. */
  alertedAt: Date | null;
  /** Caller references whose SMS confirmation was queued. */
  confirmed: string[];
  updatedAt: Date;
  purgedAt: Date | null;
}

/** Which number has an open request: keyed by the phone hash, so the lookup is by `_id`. */
interface OpenPointer {
  _id: string; // phone hash
  reference: string;
  at: Date;
}

export interface QueueFilter {
  statuses?: readonly string[];
  region?: string;
  language?: string;
  limit?: number;
}

const day = (at: Date): string => at.toISOString().slice(0, 10);

/** The queue's filter as a query: open requests unless statuses are given. */
function queueQueryOf(filter: QueueFilter): Record<string, unknown> {
  const query: Record<string, unknown> = { status: { $in: filter.statuses?.length ? filter.statuses : OPEN_STATUSES } };
  if (filter.region) query.region = filter.region;
  if (filter.language) query.language = filter.language;
  return query;
}

/** Lists may be missing on a stored request (an upsert does not always keep empty arrays). */
const normalized = (request: CallbackRequest | null): CallbackRequest | undefined =>
  request ? { ...request, joined: request.joined ?? [], attempts: request.attempts ?? [], confirmed: request.confirmed ?? [] } : undefined;

const requestSchema = () =>
  new Schema<CallbackRequest>(
    {
      _id: String,
      phoneHash: String,
      phoneSealed: String,
      language: String,
      window: String,
      topic: String,
      urgency: String,
      urgencyRank: Number,
      region: String,
      confirmBySms: Boolean,
      channel: String,
      status: String,
      createdAt: Date,
      queuedAt: Date,
      day: String,
      dueAt: Date,
      joined: [{ _id: false, reference: String, at: Date, channel: String }],
      claimedBy: String,
      claimedByName: String,
      claimedAt: Date,
      attempts: [{ _id: false, at: Date, by: String, byName: String, outcome: String, note: String }],
      firstAttemptAt: Date,
      closedAt: Date,
      closedBy: String,
      outcome: String,
      closingNote: String,
      alertedAt: Date,
      confirmed: [String],
      updatedAt: Date,
      purgedAt: Date,
    },
    { collection: 'callback_requests', versionKey: false },
  );

/** Case reports, callback requests and the open-request pointers; plain objects in and out. */
export function createHotlineStore(connection: Connection) {
  const reports: Model<CaseReport> = modelOn<CaseReport>(connection, 'CaseReport', () =>
    new Schema<CaseReport>({ _id: String, kind: String, region: String, urgency: String, wantsCallback: Boolean, channel: String, createdAt: Date, day: String }, { collection: 'case_reports', versionKey: false }),
  );
  const requests: Model<CallbackRequest> = modelOn<CallbackRequest>(connection, 'CallbackRequest', requestSchema);
  const pointers: Model<OpenPointer> = modelOn<OpenPointer>(connection, 'OpenCallbackPointer', () =>
    new Schema<OpenPointer>({ _id: String, reference: String, at: Date }, { collection: 'callback_open_by_phone', versionKey: false }),
  );

  return {
    // Upserts keyed by the reference code: a replayed or retried event writes nothing twice.
    async recordReport(report: Omit<CaseReport, 'createdAt' | 'day'>, at: Date): Promise<void> {
      const { _id, ...fields } = report;
      await reports.updateOne({ _id }, { $setOnInsert: { ...fields, createdAt: at, day: day(at) } }, { upsert: true });
    },
    async findReport(reference: string): Promise<CaseReport | undefined> {
      return (await reports.findById(reference).lean<CaseReport>().exec()) ?? undefined;
    },
    async listReports(limit: number): Promise<CaseReport[]> {
      return reports.find().sort({ createdAt: -1 }).limit(limit).lean<CaseReport[]>().exec();
    },

    /** Inserts a new request unless one with that reference exists (a replay). */
    async insertRequest(request: Omit<CallbackRequest, 'day'>): Promise<void> {
      const { _id, ...fields } = request;
      await requests.updateOne({ _id }, { $setOnInsert: { ...fields, day: day(request.createdAt) } }, { upsert: true });
    },
    async findCallbackRequest(reference: string): Promise<CallbackRequest | undefined> {
      return normalized(await requests.findById(reference).lean<CallbackRequest>().exec());
    },
    /** A code a caller gives may be one that joined another request (a scan, but a rare one). */
    async findByAnyReference(reference: string): Promise<CallbackRequest | undefined> {
      const direct = await requests.findById(reference).lean<CallbackRequest>().exec();
      return normalized(direct ?? (await requests.findOne({ 'joined.reference': reference }).lean<CallbackRequest>().exec()));
    },
    /** Callers hold the request's lock: the server applies updates as read-then-write. */
    async updateRequest(reference: string, set: Partial<CallbackRequest>, push?: { attempts?: CallAttempt; joined?: CallbackRequest['joined'][number]; confirmed?: string }): Promise<void> {
      const update: Record<string, unknown> = { $set: set };
      if (push) update.$push = push;
      await requests.updateOne({ _id: reference }, update);
    },
    async queue(filter: QueueFilter): Promise<CallbackRequest[]> {
      const query: Record<string, unknown> = { status: { $in: filter.statuses?.length ? filter.statuses : OPEN_STATUSES } };
      if (filter.region) query.region = filter.region;
      if (filter.language) query.language = filter.language;
      return requests
        .find(query, { phoneSealed: 0, phoneHash: 0 })
        .sort({ urgencyRank: 1, dueAt: 1, _id: 1 })
        .limit(Math.min(filter.limit ?? 200, 1_000))
        .lean<CallbackRequest[]>()
        .exec()
        .then((found) => found.map((request) => normalized(request) as CallbackRequest));
    },
    /** One page of the queue, in the queue's order, and how many match in all. */
    async queuePage(filter: QueueFilter, page: number, perPage: number): Promise<{ items: CallbackRequest[]; total: number }> {
      const query = queueQueryOf(filter);
      const total = await requests.countDocuments(query).exec();
      const found = await requests
        .find(query, { phoneSealed: 0, phoneHash: 0 })
        .sort({ urgencyRank: 1, dueAt: 1, _id: 1 })
        .skip((page - 1) * perPage)
        .limit(perPage)
        .lean<CallbackRequest[]>()
        .exec();
      return { items: found.map((request) => normalized(request) as CallbackRequest), total };
    },
    /**
     * Every open request under the region and language filters, in the queue's order. One read
     * serves the counts and the page: the test server scans for each query, and the open ones are
     * a few hundred.
     */
    async openQueue(filter: Pick<QueueFilter, 'region' | 'language'>): Promise<CallbackRequest[]> {
      const found = await requests
        .find(queueQueryOf(filter), { phoneSealed: 0, phoneHash: 0 })
        .sort({ urgencyRank: 1, dueAt: 1, _id: 1 })
        .lean<CallbackRequest[]>()
        .exec();
      return found.map((request) => normalized(request) as CallbackRequest);
    },
    /** Requests created in [from, to), without numbers: for figures and CSV. */
    async createdBetween(from: Date, to: Date): Promise<CallbackRequest[]> {
      const found = await requests.find({ createdAt: { $gte: from, $lt: to } }, { phoneSealed: 0, phoneHash: 0 }).sort({ createdAt: 1 }).lean<CallbackRequest[]>().exec();
      return found.map((request) => normalized(request) as CallbackRequest);
    },
    /** Closed before `cutoff` and still holding a number. */
    async purgeable(cutoff: Date, limit: number): Promise<Array<Pick<CallbackRequest, '_id' | 'phoneHash' | 'attempts'>>> {
      return requests
        .find({ status: { $in: CLOSED_STATUSES }, closedAt: { $lt: cutoff }, phoneSealed: { $ne: null } }, { _id: 1, phoneHash: 1, attempts: 1 })
        .limit(limit)
        .lean<Array<Pick<CallbackRequest, '_id' | 'phoneHash' | 'attempts'>>>()
        .exec();
    },

    openPointer: async (phoneHash: string): Promise<OpenPointer | undefined> => (await pointers.findById(phoneHash).lean<OpenPointer>().exec()) ?? undefined,
    setOpenPointer: async (phoneHash: string, reference: string, at: Date): Promise<void> => {
      await pointers.updateOne({ _id: phoneHash }, { $set: { reference, at } }, { upsert: true });
    },
    /** Drops the pointer if it still names this request. */
    clearOpenPointer: async (phoneHash: string, reference: string): Promise<void> => {
      await pointers.deleteOne({ _id: phoneHash, reference });
    },
  };
}

export type HotlineStore = ReturnType<typeof createHotlineStore>;
