import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from '../platform/mongo';

/** One answer as a flow recorded it: who (the keyed phone hash, never the number), where, what. */
export interface ResultAnswer {
  /** Keyed hash of the respondent's number (the sessions' and subscribers' hash). */
  readonly respondent: string;
  /** The call it was given in, as a keyed hash: one answer per question per call is kept. */
  readonly sitting: string;
  readonly flow: string;
  readonly node: string;
  readonly result: string;
  readonly category: string;
  /** Set when the question has a correct answer (a quiz). */
  readonly correct?: boolean;
  readonly language: string;
  /** The flow event's id: the same event applied twice changes nothing. */
  readonly eventId: string;
  /** An SMS poll's reply in no category ("other"): its length in characters, the only thing kept of its text. */
  readonly length?: number;
}

/**
 * A stored result, collection `results`. `_id` is sitting:flow:result: answering again in the same call (after
 * "0 back") replaces the answer, a new call adds one. `day` (UTC, Mali's time) is kept for daily counts.
 */
export interface StoredResult extends ResultAnswer {
  readonly _id: string;
  readonly at: Date;
  readonly day: string;
}

export interface QuizTally {
  readonly respondent: string;
  readonly answered: number;
  readonly correct: number;
}

export type RecordOutcome = 'stored' | 'replaced' | 'kept' | 'refused';

export interface CategoryCount {
  readonly category: string;
  readonly answers: number;
}

export interface ResultsStore {
  /** Stores an answer; 'kept' when this event (or a later answer) is already there; 'refused' when malformed. */
  record(answer: ResultAnswer, at: Date): Promise<RecordOutcome>;
  /**
   * An SMS poll's reply (flow `poll:<campaign id>`, sitting = respondent: one per campaign and respondent): the
   * latest reply wins, except that an "other" never replaces a reply that had a category.
   */
  recordPollReply(answer: ResultAnswer, at: Date): Promise<RecordOutcome>;
  /** Answers per category of one question, most first; `since` bounds the time. */
  tally(flow: string, result: string, since?: Date): Promise<CategoryCount[]>;
  /** Quiz answers (those with `correct` set) on days in [fromDay, toDay], counted per respondent: right and in all. */
  quizByRespondent(fromDay: string, toDay: string): Promise<QuizTally[]>;
  /** Every answer of one respondent, oldest first (for a resident's own data request). */
  ofRespondent(respondent: string): Promise<StoredResult[]>;
}

const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const CATEGORY = /^[a-z0-9][a-z0-9_]{0,39}$/;
const HASH = /^[0-9a-f]{16,128}$/;
/** An SMS poll's flow: its campaign's id. */
const POLL_FLOW = /^poll:[0-9a-f-]{36}$/;
const POLL_OTHER = 'other';

/** Nothing malformed is stored: every field is what a flow can produce. */
function wellFormed(answer: ResultAnswer): boolean {
  return (
    HASH.test(answer.respondent) && HASH.test(answer.sitting) && answer.eventId.length > 0 && NAME.test(answer.flow) &&
    NAME.test(answer.node) && NAME.test(answer.result) && CATEGORY.test(answer.category) && /^([a-z]{2,3})?$/.test(answer.language)
  );
}

export function createResultsStore(connection: Connection): ResultsStore {
  const results: Model<StoredResult> = modelOn<StoredResult>(connection, 'Result', () => {
    const schema = new Schema<StoredResult>(
      {
        _id: String, respondent: String, sitting: String, flow: String, node: String, result: String, category: String,
        correct: Boolean, language: String, eventId: String, at: Date, day: String, length: Number,
      },
      { collection: 'results', versionKey: false, autoIndex: false },
    );
    // Per-question counts (flow, result, category, over time), and one respondent's answers.
    schema.index({ flow: 1, result: 1, category: 1, at: 1 });
    schema.index({ respondent: 1, at: 1 });
    // Quiz figures by day range (the indicators).
    schema.index({ day: 1, correct: 1 });
    return schema;
  });

  // Built by the first write, not when the model is made: a process whose MongoDB never answers keeps no timer.
  let indexed: Promise<unknown> | undefined;
  const indexes = (): Promise<unknown> => (indexed ??= results.createIndexes().catch((err: unknown) => {
    indexed = undefined;
    throw err;
  }));

  /**
   * Stores the answer as sitting:flow:result, or, when that question of that call is already answered by another
   * event, replaces the stored answer if it is older and matches `replaceable`.
   */
  async function storeOrReplace(
    answer: ResultAnswer, at: Date, replaceable: object, change: (fields: Omit<StoredResult, '_id'>) => object,
  ): Promise<Exclude<RecordOutcome, 'refused'>> {
    await indexes();
    const id = `${answer.sitting}:${answer.flow}:${answer.result}`;
    const doc: StoredResult = { ...answer, _id: id, at, day: at.toISOString().slice(0, 10) };
    try {
      await results.create(doc);
      return 'stored';
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    const { _id, ...fields } = doc;
    const older = { _id, eventId: { $ne: answer.eventId }, at: { $lt: at }, ...replaceable };
    const changed = await results.updateOne(older, change(fields)).exec();
    return changed.modifiedCount > 0 ? 'replaced' : 'kept';
  }

  return {
    async record(answer, at) {
      if (!wellFormed(answer)) return 'refused';
      // Another answer to this question in this call: the later one wins, and a replay of this event changes nothing.
      return storeOrReplace(answer, at, {}, (fields) => ({ $set: fields }));
    },
    async recordPollReply(answer, at) {
      const other = answer.category === POLL_OTHER;
      // A length only with "other", and there always: a categorised reply keeps nothing of its text but its category.
      const lengthKept = other ? Number.isInteger(answer.length) && (answer.length ?? -1) >= 0 : answer.length === undefined;
      if (!POLL_FLOW.test(answer.flow) || !wellFormed({ ...answer, flow: 'poll' }) || !lengthKept) return 'refused';
      // Latest wins, as for a flow's answer; a later "other" (thanks, chatter) leaves a categorised reply alone.
      return other
        ? storeOrReplace(answer, at, { category: POLL_OTHER }, (fields) => ({ $set: fields }))
        : storeOrReplace(answer, at, {}, (fields) => ({ $set: fields, $unset: { length: 1 } }));
    },
    async tally(flow, result, since) {
      const match = { flow, result, ...(since ? { at: { $gte: since } } : {}) };
      const rows = await results.aggregate<{ _id: string; answers: number }>([
        { $match: match },
        { $group: { _id: '$category', answers: { $sum: 1 } } },
        { $sort: { answers: -1, _id: 1 } },
      ]).exec();
      return rows.map((row) => ({ category: row._id, answers: row.answers }));
    },
    async quizByRespondent(fromDay, toDay) {
      const rows = await results.aggregate<{ _id: { respondent: string; correct: boolean }; answers: number }>([
        { $match: { day: { $gte: fromDay, $lte: toDay }, correct: { $in: [true, false] } } },
        { $group: { _id: { respondent: '$respondent', correct: '$correct' }, answers: { $sum: 1 } } },
      ]).exec();
      const tallies = new Map<string, { respondent: string; answered: number; correct: number }>();
      for (const row of rows) {
        const tally = tallies.get(row._id.respondent) ?? { respondent: row._id.respondent, answered: 0, correct: 0 };
        tally.answered += row.answers;
        if (row._id.correct) tally.correct += row.answers;
        tallies.set(row._id.respondent, tally);
      }
      return [...tallies.values()];
    },
    async ofRespondent(respondent) {
      return results.find({ respondent }).sort({ at: 1 }).lean<StoredResult[]>().exec();
    },
  };
}
