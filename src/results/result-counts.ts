import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import type { WithLock } from '../platform/redis-lock';
import { changesBetween, contributionOf, type CountChanges, type CountedProfile, type KeptAnswer } from './contribution';

/**
 * A respondent's answers to one question, collection `result_respondents` (`_id` flow:result:respondent hash):
 * what the counts were last made from, and what the campaign comparison reads.
 */
export interface RespondentAnswers {
  readonly _id: string;
  readonly flow: string;
  readonly result: string;
  readonly respondent: string;
  /** Oldest first, one per call, at most KEPT_ANSWERS. */
  readonly answers: KeptAnswer[];
  readonly profile: CountedProfile;
}

/**
 * The counts of one question, collection `result_counts` (`_id` flow:result:scope, scope "all" or "region=kayes"):
 * `n.<split>.<value>.<category>` respondents, `k.<split>.<value>` of them right (a quiz); `seq`, the last change in.
 */
export interface StoredCounts {
  readonly _id: string;
  readonly flow: string;
  readonly result: string;
  readonly scope: string;
  readonly seq: number;
  readonly n?: Record<string, Record<string, Record<string, number>>>;
  readonly k?: Record<string, Record<string, number>>;
}

/** The change being made to one question, collection `result_counts_journal` (`_id` flow:result): written before it is made. */
interface JournalEntry {
  readonly _id: string;
  readonly seq: number;
  readonly applied: boolean;
  readonly respondent: RespondentAnswers;
  /** Per counter document, its paths and changes as a list (a stored key may not hold the paths' dots, nor the server nested arrays). */
  readonly changes: ReadonlyArray<{ readonly doc: string; readonly inc: ReadonlyArray<{ readonly path: string; readonly by: number }> }>;
}

/** A respondent answering a question hundreds of times keeps their latest 100: a bound on the document. */
export const KEPT_ANSWERS = 100;

export type NextAnswers = (current: RespondentAnswers | undefined) => Promise<Pick<RespondentAnswers, 'answers' | 'profile'> | undefined>;

const isDuplicateKey = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 11000;

/**
 * Counts kept as respondents answer. The server used here loses one of two updates made to a document at the same
 * time, and has no transactions, so: one writer per question at a time (a Redis lock), and each change is written
 * to the question's journal before it is made. A writer that dies halfway leaves the entry unapplied; the next
 * writer of that question makes it again first, and each counter document takes a change once (its `seq`).
 */
export function createResultCounts(connection: Connection, withLock: WithLock) {
  const opts = { versionKey: false, minimize: false, autoIndex: false } as const;
  const respondents = modelOn<RespondentAnswers>(connection, 'ResultRespondent', () =>
    new Schema<RespondentAnswers>(
      {
        _id: String, flow: String, result: String, respondent: String,
        answers: [{ _id: false, sitting: String, at: Date, category: String, correct: Boolean, language: String }],
        profile: { region: String, age_band: String, sex: String },
      },
      { ...opts, collection: 'result_respondents' },
    ),
  );
  const counts = modelOn<StoredCounts>(connection, 'ResultCounts', () =>
    new Schema<StoredCounts>(
      { _id: String, flow: String, result: String, scope: String, seq: Number, n: Schema.Types.Mixed, k: Schema.Types.Mixed },
      { ...opts, collection: 'result_counts' },
    ),
  );
  const journal = modelOn<JournalEntry>(connection, 'ResultCountsJournal', () =>
    new Schema<JournalEntry>(
      { _id: String, seq: Number, applied: Boolean, respondent: Schema.Types.Mixed, changes: Schema.Types.Mixed },
      { ...opts, collection: 'result_counts_journal' },
    ),
  );

  async function apply(entry: JournalEntry): Promise<void> {
    const { respondent } = entry;
    await respondents.replaceOne({ _id: respondent._id }, respondent, { upsert: true }).exec();
    for (const { doc, inc } of entry.changes) {
      const scope = doc.slice(respondent.flow.length + respondent.result.length + 2);
      try {
        // Matches only while this change is not in; once it is, the upsert finds the _id taken (11000).
        await counts.collection.updateOne(
          { _id: doc as never, seq: { $ne: entry.seq } },
          {
            $inc: Object.fromEntries(inc.map(({ path, by }) => [path, by])),
            $set: { seq: entry.seq, flow: respondent.flow, result: respondent.result, scope },
          },
          { upsert: true },
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await journal.updateOne({ _id: entry._id, seq: entry.seq }, { $set: { applied: true } }).exec();
  }

  const plain = (changes: CountChanges): JournalEntry['changes'] =>
    [...changes].map(([doc, paths]) => ({ doc, inc: [...paths].map(([path, by]) => ({ path, by })) }));

  return {
    /**
     * Under the question's lock: `next` says what the respondent's answers and profile become (undefined: no
     * change), and the counts move by the difference.
     */
    async change(question: { flow: string; result: string }, respondent: string, next: NextAnswers): Promise<void> {
      const key = `${question.flow}:${question.result}`;
      await withLock(`results:${key}`, async () => {
        const pending = await journal.findById(key).lean<JournalEntry>().exec();
        if (pending && !pending.applied) await apply(pending);
        const id = `${key}:${respondent}`;
        const current = (await respondents.findById(id).lean<RespondentAnswers>().exec()) ?? undefined;
        const wanted = await next(current);
        if (!wanted) return;
        const answers = wanted.answers.slice(-KEPT_ANSWERS);
        const before: CountChanges = current
          ? contributionOf(question, current.answers, current.profile)
          : new Map<string, Map<string, number>>();
        const changes = changesBetween(before, contributionOf(question, answers, wanted.profile));
        const { flow, result } = question;
        const doc: RespondentAnswers = { _id: id, flow, result, respondent, answers, profile: wanted.profile };
        const entry: JournalEntry = { _id: key, seq: (pending?.seq ?? 0) + 1, applied: false, respondent: doc, changes: plain(changes) };
        await journal.replaceOne({ _id: key }, entry, { upsert: true }).exec();
        await apply(entry);
      });
    },
    /** A question's counts, all respondents' or one region's. */
    counts: async (flow: string, result: string, scope: string): Promise<StoredCounts | undefined> =>
      (await counts.findById(`${flow}:${result}:${scope}`).lean<StoredCounts>().exec()) ?? undefined,
    /** Every respondent of a flow's questions, one document at a time (the comparison with a campaign reads them all). */
    respondentsOf: (flow: string): AsyncIterable<RespondentAnswers> =>
      respondents.find({ flow }).lean<RespondentAnswers>().cursor({ batchSize: 1_000 }) as AsyncIterable<RespondentAnswers>,
  };
}

export type ResultCounts = ReturnType<typeof createResultCounts>;
