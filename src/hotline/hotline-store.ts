import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from '../platform/mongo';
import { CLOSED_STATUSES, OPEN_STATUSES, type RequestStatus } from './callback-policy';

/** An anonymous report of a suspected case: no phone number, ever. */
export interface CaseReport {
  _id: string; // its reference code (the caller's, unless `aliases` says otherwise)
  /** What made it (a flow event's id, an SMS id): a replay finds it again instead of storing it twice. */
  eventKey?: string;
  /** Codes a caller was told for it besides `_id` (a replayed hop showed a newer one): lookups find it by them. */
  aliases?: string[];
  /** The code the caller was told when another record already had it: kept, but not a lookup key (it is the other's). */
  toldReference?: string;
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
  eventKey?: string;
  /** As for reports: other codes a caller was told for this request, and a told code that was another's. */
  aliases?: string[];
  toldReference?: string;
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
  joined: Array<{ reference: string; eventKey?: string; at: Date; channel: string }>;
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

/** The event that made a report or request, and the code it was stored under: insert-only, one per event. */
interface EventClaim {
  _id: string; // event key
  reference: string;
  at: Date;
}

/** What an insert-only write found: stored now, stored before by the same event (a replay), or the code is another's. */
export type InsertOutcome = 'inserted' | 'ours' | 'taken';

const isDuplicate = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 11000;

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
      eventKey: String,
      aliases: [String],
      toldReference: String,
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
      joined: [{ _id: false, reference: String, eventKey: String, at: Date, channel: String }],
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
  const reports: Model<CaseReport> = modelOn<CaseReport>(
    connection,
    'CaseReport',
    () =>
      new Schema<CaseReport>(
        {
          _id: String,
          eventKey: String,
          aliases: [String],
          toldReference: String,
          kind: String,
          region: String,
          urgency: String,
          wantsCallback: Boolean,
          channel: String,
          createdAt: Date,
          day: String,
        },
        { collection: 'case_reports', versionKey: false },
      ),
  );
  const requests: Model<CallbackRequest> = modelOn<CallbackRequest>(connection, 'CallbackRequest', requestSchema);
  const pointers: Model<OpenPointer> = modelOn<OpenPointer>(connection, 'OpenCallbackPointer', () =>
    new Schema<OpenPointer>({ _id: String, reference: String, at: Date }, { collection: 'callback_open_by_phone', versionKey: false }),
  );
  const claims: Model<EventClaim> = modelOn<EventClaim>(connection, 'HotlineEventClaim', () =>
    new Schema<EventClaim>({ _id: String, reference: String, at: Date }, { collection: 'hotline_event_claims', versionKey: false }),
  );
  // Insert-only: a code already taken is never overwritten nor merged into; the caller picks another.
  const insertOnly = async <T extends { _id: string; eventKey?: string }>(model: Model<T>, doc: T): Promise<InsertOutcome> => {
    try {
      await model.create(doc);
      return 'inserted';
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const existing = await model.findById(doc._id, { eventKey: 1 }).lean<{ eventKey?: string }>().exec();
      return existing && existing.eventKey !== undefined && existing.eventKey === doc.eventKey ? 'ours' : 'taken';
    }
  };

  return {
    /**
     * The first claim of an event key wins and names the code to store it under; a later one (a
     * replayed hop, a relay or job that ran twice) learns that code instead.
     */
    async claimEvent(eventKey: string, reference: string, at: Date): Promise<{ reference: string; replay: boolean }> {
      try {
        await claims.create({ _id: eventKey, reference, at });
        return { reference, replay: false };
      } catch (err) {
        if (!isDuplicate(err)) throw err;
        const found = await claims.findById(eventKey).lean<EventClaim>().exec();
        return { reference: found?.reference ?? reference, replay: true };
      }
    },
    /** The claimed code was taken by another record: the event is stored under this one. */
    async moveClaim(eventKey: string, reference: string): Promise<void> {
      await claims.updateOne({ _id: eventKey }, { $set: { reference } });
    },

    insertReport: (report: Omit<CaseReport, 'day'>): Promise<InsertOutcome> =>
      insertOnly(reports, { ...report, day: day(report.createdAt) }),
    async addReportAlias(reference: string, alias: string): Promise<void> {
      await reports.updateOne({ _id: reference }, { $addToSet: { aliases: alias } });
    },
    async findReport(reference: string): Promise<CaseReport | undefined> {
      const direct = await reports.findById(reference).lean<CaseReport>().exec();
      return (direct ?? (await reports.findOne({ aliases: reference }).lean<CaseReport>().exec())) ?? undefined;
    },
    /** Reports made in [from, to) without their codes or event keys: for figures and exports that must stay anonymous. */
    async reportsBetween(from: Date, to: Date): Promise<Array<Pick<CaseReport, 'kind' | 'region' | 'urgency' | 'channel' | 'day'>>> {
      return reports
        .find({ createdAt: { $gte: from, $lt: to } }, { _id: 0, kind: 1, region: 1, urgency: 1, channel: 1, day: 1 })
        .sort({ createdAt: 1 })
        .lean<Array<Pick<CaseReport, 'kind' | 'region' | 'urgency' | 'channel' | 'day'>>>()
        .exec();
    },
    async listReports(limit: number): Promise<CaseReport[]> {
      return reports.find().sort({ createdAt: -1 }).limit(limit).lean<CaseReport[]>().exec();
    },

    /** Inserts a new request under its code, unless that code is already another's (then: 'taken'). */
    async insertRequest(request: Omit<CallbackRequest, 'day'>): Promise<InsertOutcome> {
      if (await requests.exists({ $or: [{ 'joined.reference': request._id }, { aliases: request._id }] })) return 'taken';
      return insertOnly(requests, { ...request, day: day(request.createdAt) });
    },
    /** A code some request already answers to (its own, a joined request's, or an alias). */
    async requestCodeInUse(reference: string): Promise<boolean> {
      return (await requests.exists({ $or: [{ _id: reference }, { 'joined.reference': reference }, { aliases: reference }] })) !== null;
    },
    async addRequestAlias(reference: string, alias: string): Promise<void> {
      await requests.updateOne({ _id: reference }, { $addToSet: { aliases: alias } });
    },
    async findCallbackRequest(reference: string): Promise<CallbackRequest | undefined> {
      return normalized(await requests.findById(reference).lean<CallbackRequest>().exec());
    },
    /** A code a caller gives may be one that joined another request (a scan, but a rare one). */
    async findByAnyReference(reference: string): Promise<CallbackRequest | undefined> {
      const direct = await requests.findById(reference).lean<CallbackRequest>().exec();
      const elsewhere = { $or: [{ 'joined.reference': reference }, { aliases: reference }] };
      const other = direct ?? (await requests.findOne(elsewhere).lean<CallbackRequest>().exec());
      return normalized(other);
    },
    /** Callers hold the request's lock: the server applies updates as read-then-write. */
    async updateRequest(
      reference: string,
      set: Partial<CallbackRequest>,
      push?: { attempts?: CallAttempt; joined?: CallbackRequest['joined'][number]; confirmed?: string },
    ): Promise<void> {
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
      const found = await requests
        .find({ createdAt: { $gte: from, $lt: to } }, { phoneSealed: 0, phoneHash: 0 })
        .sort({ createdAt: 1 })
        .lean<CallbackRequest[]>()
        .exec();
      return found.map((request) => normalized(request) as CallbackRequest);
    },
    /** Closed before `cutoff` and still holding a number. */
    async purgeable(cutoff: Date, limit: number): Promise<Array<Pick<CallbackRequest, '_id' | 'phoneHash' | 'attempts'>>> {
      return requests
        .find(
          { status: { $in: CLOSED_STATUSES }, closedAt: { $lt: cutoff }, phoneSealed: { $ne: null } },
          { _id: 1, phoneHash: 1, attempts: 1 },
        )
        .limit(limit)
        .lean<Array<Pick<CallbackRequest, '_id' | 'phoneHash' | 'attempts'>>>()
        .exec();
    },

    openPointer: async (phoneHash: string): Promise<OpenPointer | undefined> =>
      (await pointers.findById(phoneHash).lean<OpenPointer>().exec()) ?? undefined,
    /** Points a phone at its open request: only at a request of that same phone. */
    setOpenPointer: async (phoneHash: string, reference: string, at: Date): Promise<void> => {
      const samePhone = await requests.exists({ _id: reference, phoneHash });
      if (!samePhone) throw new Error('an open-request pointer may only name a request of the same phone');
      await pointers.updateOne({ _id: phoneHash }, { $set: { reference, at } }, { upsert: true });
    },
    /** Drops the pointer if it still names this request. */
    clearOpenPointer: async (phoneHash: string, reference: string): Promise<void> => {
      await pointers.deleteOne({ _id: phoneHash, reference });
    },
  };
}

export type HotlineStore = ReturnType<typeof createHotlineStore>;
