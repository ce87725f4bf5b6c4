import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import type { ResultAnswer } from './results-store';

/**
 * Answers and profile changes stored but not yet counted, collection `result_counts_pending`: a count that could
 * not be made (Redis down while a hop writes its events directly, a lock held too long) waits here for the
 * worker's next pass, instead of failing the caller's hop or leaving the counts short.
 */
export type PendingCount =
  | { readonly _id: string; readonly kind: 'answer'; readonly answer: ResultAnswer; readonly at: Date }
  | { readonly _id: string; readonly kind: 'profile'; readonly respondent: string; readonly at: Date };

export function createPendingCounts(connection: Connection) {
  const pending = modelOn<PendingCount>(connection, 'ResultCountPending', () =>
    new Schema<PendingCount>(
      { _id: String, kind: String, answer: Schema.Types.Mixed, respondent: String, at: Date },
      { collection: 'result_counts_pending', versionKey: false },
    ),
  );
  return {
    /** Idempotent: the same answer (its event) or respondent waits once. */
    async add(count: PendingCount): Promise<void> {
      await pending.replaceOne({ _id: count._id }, count, { upsert: true }).exec();
    },
    /** The oldest waiting, a batch at a time (the collection is empty but for outages). */
    next: (limit: number): Promise<PendingCount[]> => pending.find().sort({ at: 1 }).limit(limit).lean<PendingCount[]>().exec(),
    async done(id: string): Promise<void> {
      await pending.deleteOne({ _id: id }).exec();
    },
  };
}

export type PendingCounts = ReturnType<typeof createPendingCounts>;
