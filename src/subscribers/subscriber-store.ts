import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from '../platform/mongo';

export const CONSENT_SOURCES = ['ussd', 'sms', 'import', 'console'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];
/**
 * The channels where only the person speaks: a STOP keyword or AT's opt-out callback (sms), the USSD
 * menu (ussd). An opt-out from one of them is the person's own, undone only by the person.
 */
export const OWN_ACTION_SOURCES: readonly ConsentSource[] = ['sms', 'ussd'];
const OPTED_OUT_BY_PERSON = { 'consent.status': 'opted_out', 'consent.source': { $in: OWN_ACTION_SOURCES } };
export const optedOutByPerson = (subscriber: Pick<Subscriber, 'consent'> | undefined): boolean =>
  subscriber?.consent?.status === 'opted_out' && OWN_ACTION_SOURCES.includes(subscriber.consent.source);

/** A person who said yes (or later no) to awareness SMS, keyed by the keyed hash of their number. */
export interface Subscriber {
  _id: string; // phone hash
  phoneSealed: string;
  /**
   * The number's first characters ("+22370", gateway/route-table.ts): which operator's route it takes, counted
   * without opening the number. Absent on records written before it was kept.
   */
  numberBlock?: string;
  language: string;
  region: string;
  topics: string[];
  consent: { status: 'opted_in' | 'opted_out'; source: ConsentSource; at: Date; evidence: string };
  createdAt: Date;
  updatedAt: Date;
  /** Set when the gateway refused the number for good (invalid, blacklisted): campaigns skip it. */
  flagged: { reason: string; at: Date } | null;
}

export interface AudienceFilter {
  languages?: readonly string[];
  regions?: readonly string[];
  topics?: readonly string[];
  joinedFrom?: Date;
  joinedTo?: Date;
}

export interface ConsentChange {
  phoneHash: string;
  phoneSealed: string;
  /** See Subscriber.numberBlock; every write path that has the number gives it. */
  numberBlock?: string;
  language: string;
  region?: string;
  source: ConsentSource;
  evidence: string;
}

const isDuplicateKey = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 11000;

/**
 * Subscribers and their consent. Every consent change carries the time it was made, and a change
 * older than the one stored is ignored: a retried "subscribe" can never undo a later "stop".
 */
export function createSubscriberStore(connection: Connection) {
  const subscribers: Model<Subscriber> = modelOn<Subscriber>(connection, 'Subscriber', () =>
    new Schema<Subscriber>(
      {
        _id: String,
        phoneSealed: String,
        numberBlock: String,
        language: String,
        region: String,
        topics: [String],
        consent: { status: String, source: String, at: Date, evidence: String },
        createdAt: Date,
        updatedAt: Date,
        flagged: { reason: String, at: Date },
      },
      { collection: 'subscribers', versionKey: false },
    ),
  );

  /** Applies `update` only if the stored consent is not newer than `at`; creates the subscriber if absent. */
  async function changeIfNotNewer(
    phoneHash: string,
    at: Date,
    update: Record<string, unknown>,
    create: boolean,
    unless?: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      const result = await subscribers.updateOne(
        { ...notNewerThan(phoneHash, at), ...(unless ? { $nor: [unless] } : {}) },
        { ...update, ...(create ? { $setOnInsert: { ...(update.$setOnInsert as object | undefined), createdAt: at } } : {}) },
        { upsert: create },
      );
      return result.modifiedCount + result.upsertedCount > 0;
    } catch (err) {
      // The filter missed because a newer choice is stored; the upsert then collides with it.
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Stops every message to the number. The record stays (or is created) as the evidence of the
   * opt-out: an import carrying an older consent cannot subscribe the number again.
   */
  const optOut = (phoneHash: string, source: ConsentSource, evidence: string, at: Date): Promise<boolean> =>
    changeIfNotNewer(
      phoneHash,
      at,
      {
        $set: { topics: [], consent: { status: 'opted_out', source, at, evidence }, updatedAt: at },
        $setOnInsert: { phoneSealed: '', language: '', region: '', flagged: null },
      },
      true,
    );

  /** One import row for a number already on file (see optInManyOnBehalf). */
  async function optInOneOnBehalf(
    change: ConsentChange & { topics: readonly string[] },
    at: Date,
  ): Promise<'changed' | 'unchanged' | 'opted_out_by_person'> {
    const stored = (await subscribers.findById(change.phoneHash, { consent: 1 }).lean<Pick<Subscriber, 'consent'>>().exec()) ?? undefined;
    if (optedOutByPerson(stored)) return 'opted_out_by_person';
    if (stored?.consent?.at && stored.consent.at > at) return 'unchanged';
    if (await changeIfNotNewer(change.phoneHash, at, optInUpdate(change, at), true, OPTED_OUT_BY_PERSON)) return 'changed';
    return optedOutByPerson(
      (await subscribers.findById(change.phoneHash, { consent: 1 }).lean<Pick<Subscriber, 'consent'>>().exec()) ?? undefined,
    )
      ? 'opted_out_by_person'
      : 'unchanged';
  }

  return {
    optOut,
    /** Adds or removes a topic; "all" removes every topic and records the opt-out. */
    async recordTopicChoice(input: ConsentChange & { topic: string; subscribed: boolean }, at: Date): Promise<boolean> {
      const consent = { source: input.source, at, evidence: input.evidence };
      if (input.subscribed) {
        return changeIfNotNewer(
          input.phoneHash,
          at,
          {
            $addToSet: { topics: input.topic },
            $set: {
              phoneSealed: input.phoneSealed,
              ...blockOf(input),
              language: input.language,
              consent: { ...consent, status: 'opted_in' },
              updatedAt: at,
              ...(input.region ? { region: input.region } : {}),
            },
          },
          true,
        );
      }
      if (input.topic === 'all') return optOut(input.phoneHash, input.source, input.evidence, at);
      return changeIfNotNewer(input.phoneHash, at, { $pull: { topics: input.topic }, $set: { updatedAt: at } }, false);
    },
    async optIn(input: ConsentChange & { topics: readonly string[] }, at: Date): Promise<boolean> {
      return changeIfNotNewer(input.phoneHash, at, optInUpdate(input, at), true);
    },
    /**
     * Opt-ins someone else reports (an import), a batch at a time: never over the person's own
     * opt-out, whatever its date. For each, whether it was applied, or why not (so an import counts
     * those rows). Numbers not on file, the common case, are inserted together; the server stops an
     * insert at its first number already on file, which then goes alone (read by _id, changed under
     * the same conditions as any consent change, so a STOP that lands meanwhile is never overwritten),
     * and the insert goes on after it. No filter but _id alone: any other makes this server scan.
     */
    async optInManyOnBehalf(
      inputs: ReadonlyArray<{ change: ConsentChange & { topics: readonly string[] }; at: Date }>,
    ): Promise<Array<'changed' | 'unchanged' | 'opted_out_by_person'>> {
      const outcomes: Array<'changed' | 'unchanged' | 'opted_out_by_person'> = [];
      for (let from = 0; from < inputs.length; ) {
        let inserted = inputs.length - from;
        try {
          await subscribers.collection.insertMany(inputs.slice(from).map(({ change, at }) => newSubscriber(change, at)) as never[], {
            ordered: true,
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          inserted = (err as { result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
        }
        for (let i = 0; i < inserted; i += 1) outcomes.push('changed');
        from += inserted;
        const onFile = inputs[from];
        if (!onFile) break;
        outcomes.push(await optInOneOnBehalf(onFile.change, onFile.at));
        from += 1;
      }
      return outcomes;
    },
    async flag(phoneHash: string, reason: string, at: Date): Promise<void> {
      await subscribers.updateOne({ _id: phoneHash }, { $set: { flagged: { reason, at }, updatedAt: at } });
    },
    async find(phoneHash: string): Promise<Subscriber | undefined> {
      return (await subscribers.findById(phoneHash).lean<Subscriber>().exec()) ?? undefined;
    },
    /**
     * The whole audience, as one cursor read in pages of `pageSize`, in the server's natural order.
     * Not sorted: this server sorts in memory, so a sorted walk would hold the whole audience in its
     * heap for as long as the fan-out runs (about 0.7 GB at 100,000, and its garbage collector
     * scanning it all the while); the fan-out does not need an order.
     */
    async *audience(filter: AudienceFilter, pageSize: number): AsyncGenerator<AudiencePage> {
      const cursor = subscribers
        .find(audienceQuery(filter), { _id: 1, phoneSealed: 1, numberBlock: 1, language: 1 })
        .batchSize(pageSize)
        .lean<AudiencePage[number]>()
        .cursor();
      let page: AudiencePage = [];
      try {
        for await (const subscriber of cursor) {
          page.push(subscriber);
          if (page.length === pageSize) {
            yield page;
            page = [];
          }
        }
        if (page.length) yield page;
      } finally {
        await cursor.close();
      }
    },
    async countAudience(filter: AudienceFilter): Promise<Record<string, number>> {
      const rows = await subscribers.find(audienceQuery(filter), { language: 1 }).lean<Array<Pick<Subscriber, 'language'>>>().exec();
      const counts: Record<string, number> = {};
      for (const row of rows) counts[row.language] = (counts[row.language] ?? 0) + 1;
      return counts;
    },
    /**
     * The audience counted by language and number block, on the server ($group): nothing is decrypted and
     * no subscriber leaves the database, however large the audience. block is '' for records without one.
     */
    async countAudienceByBlock(filter: AudienceFilter): Promise<Array<{ language: string; block: string; count: number }>> {
      const rows = await subscribers
        .aggregate<{ _id: { language?: string; block?: string }; count: number }>([
          { $match: audienceQuery(filter) },
          { $group: { _id: { language: '$language', block: '$numberBlock' }, count: { $sum: 1 } } },
        ])
        .exec();
      return rows.map((row) => ({ language: row._id.language ?? '', block: row._id.block ?? '', count: row.count }));
    },
    /** Counts for the console: by consent status, language, region and source. */
    async summary(): Promise<{
      total: number;
      byStatus: Record<string, number>;
      byLanguage: Record<string, number>;
      byRegion: Record<string, number>;
      bySource: Record<string, number>;
    }> {
      const rows = await subscribers
        .find({}, { language: 1, region: 1, consent: 1 })
        .lean<Array<Pick<Subscriber, 'language' | 'region' | 'consent'>>>()
        .exec();
      const add = (map: Record<string, number>, key: string | undefined) => (map[key || 'unknown'] = (map[key || 'unknown'] ?? 0) + 1);
      const out = { total: rows.length, byStatus: {}, byLanguage: {}, byRegion: {}, bySource: {} };
      for (const row of rows) {
        add(out.byStatus, row.consent?.status);
        if (row.consent?.status === 'opted_in') {
          add(out.byLanguage, row.language);
          add(out.byRegion, row.region);
          add(out.bySource, row.consent.source);
        }
      }
      return out;
    },
    /** The region of each of these subscribers (by `_id`, in chunks): figures per region join by it. */
    async regionsOf(hashes: readonly string[]): Promise<Map<string, string>> {
      const regions = new Map<string, string>();
      // The test server scans for an $in: past a few chunks, one read of every subscriber's region is cheaper.
      if (hashes.length > 2_000) {
        const wanted = new Set(hashes);
        const rows = await subscribers.find({}, { region: 1 }).lean<Array<Pick<Subscriber, '_id' | 'region'>>>().exec();
        for (const row of rows) if (row.region && wanted.has(row._id)) regions.set(row._id, row.region);
        return regions;
      }
      for (let i = 0; i < hashes.length; i += 1_000) {
        const rows = await subscribers
          .find({ _id: { $in: hashes.slice(i, i + 1_000) } }, { region: 1 })
          .lean<Array<Pick<Subscriber, '_id' | 'region'>>>()
          .exec();
        for (const row of rows) if (row.region) regions.set(row._id, row.region);
      }
      return regions;
    },
    /** Every opted-out number's hash, for the Redis set the senders check. */
    async optedOut(): Promise<string[]> {
      return (await subscribers.find({ 'consent.status': 'opted_out' }, { _id: 1 }).lean<Array<{ _id: string }>>().exec()).map(
        (row) => row._id,
      );
    },
  };
}

/** The subscriber, if its stored consent is not newer than `at`. */
const notNewerThan = (phoneHash: string, at: Date) => ({
  _id: phoneHash,
  $or: [{ 'consent.at': { $lte: at } }, { 'consent.at': { $exists: false } }],
});

function newSubscriber(input: ConsentChange & { topics: readonly string[] }, at: Date): Subscriber {
  const { phoneHash, phoneSealed, language, source, evidence } = input;
  return {
    _id: phoneHash,
    phoneSealed,
    ...blockOf(input),
    language,
    region: input.region ?? '',
    topics: [...new Set(input.topics)],
    consent: { status: 'opted_in', source, at, evidence },
    createdAt: at,
    updatedAt: at,
    flagged: null,
  };
}

function optInUpdate(input: ConsentChange & { topics: readonly string[] }, at: Date): Record<string, unknown> {
  return {
    $addToSet: { topics: { $each: [...input.topics] } },
    $set: {
      phoneSealed: input.phoneSealed,
      ...blockOf(input),
      language: input.language,
      region: input.region ?? '',
      consent: { status: 'opted_in', source: input.source, at, evidence: input.evidence },
      updatedAt: at,
      flagged: null,
    },
  };
}

const blockOf = (input: Pick<ConsentChange, 'numberBlock'>): { numberBlock?: string } =>
  input.numberBlock ? { numberBlock: input.numberBlock } : {};

function audienceQuery(filter: AudienceFilter): Record<string, unknown> {
  const query: Record<string, unknown> = { 'consent.status': 'opted_in', flagged: null };
  if (filter.languages?.length) query.language = { $in: filter.languages };
  if (filter.regions?.length) query.region = { $in: filter.regions };
  if (filter.topics?.length) query.topics = { $in: filter.topics };
  if (filter.joinedFrom || filter.joinedTo) {
    query.createdAt = { ...(filter.joinedFrom ? { $gte: filter.joinedFrom } : {}), ...(filter.joinedTo ? { $lt: filter.joinedTo } : {}) };
  }
  return query;
}

export type SubscriberStore = ReturnType<typeof createSubscriberStore>;
export type AudiencePage = Array<Pick<Subscriber, '_id' | 'phoneSealed' | 'numberBlock' | 'language'>>;
