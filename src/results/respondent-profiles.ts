import { Schema, type Connection, type Model } from 'mongoose';
import { isProfileValue, PROFILE_FIELD_NAMES, type ProfileField } from '../flow-engine/profile-fields';
import { modelOn } from '../platform/mongo';

/**
 * Respondents' profiles, collection `respondent_profiles`: one document per respondent and field, keyed by the
 * keyed hash of the number (never the number). `value` is one of the field's known values or "prefer_not_to_say";
 * the field `skipped` (value "yes") says the respondent chose not to answer. One document per field, not one per
 * respondent: answers applied at the same time never write the same document. Results join it by that hash;
 * case reports never carry it, so a report stays unlinkable to a profile.
 */
export interface StoredProfileAnswer {
  /** respondent:field */
  readonly _id: string;
  readonly respondent: string;
  readonly field: ProfileField | typeof SKIPPED;
  readonly value: string;
  /** When it was answered: an answer applied late never overwrites a newer one. */
  readonly at: Date;
}

const SKIPPED = 'skipped';

/** A respondent's profile as one object: each answered field, and when the questions were skipped. */
export interface RespondentProfile {
  readonly respondent: string;
  readonly region?: string;
  readonly age_band?: string;
  readonly sex?: string;
  readonly skippedAt?: Date;
}

export interface RespondentProfiles {
  /** Stores one answer; false when the value is not one the field takes (nothing is stored then). */
  answer(phoneHash: string, field: string, value: string, at: Date): Promise<boolean>;
  skip(phoneHash: string, at: Date): Promise<void>;
  /** undefined: nothing is known of this respondent. */
  find(phoneHash: string): Promise<RespondentProfile | undefined>;
  /** The region each of these respondents gave, when they gave one. */
  regionsOf(phoneHashes: readonly string[]): Promise<Map<string, string>>;
}

export function createRespondentProfiles(connection: Connection): RespondentProfiles {
  const answers: Model<StoredProfileAnswer> = modelOn<StoredProfileAnswer>(connection, 'RespondentProfileAnswer', () => {
    const schema = new Schema<StoredProfileAnswer>(
      { _id: String, respondent: String, field: String, value: String, at: Date },
      { collection: 'respondent_profiles', versionKey: false, autoIndex: false },
    );
    // One respondent's profile, and counts per value of a field (respondents by region).
    schema.index({ respondent: 1 });
    schema.index({ field: 1, value: 1 });
    return schema;
  });

  // Built by the first write, not when the model is made: a process whose MongoDB never answers keeps no timer.
  let indexed: Promise<unknown> | undefined;
  const indexes = (): Promise<unknown> => (indexed ??= answers.createIndexes().catch((err: unknown) => {
    indexed = undefined;
    throw err;
  }));
  const put = async (respondent: string, field: StoredProfileAnswer['field'], value: string, at: Date): Promise<void> => {
    await indexes();
    const _id = `${respondent}:${field}`;
    try {
      await answers.create({ _id, respondent, field, value, at });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      await answers.updateOne({ _id, at: { $lt: at } }, { $set: { value, at } }).exec();
    }
  };

  return {
    async answer(phoneHash, field, value, at) {
      if (!/^[0-9a-f]{16,128}$/.test(phoneHash) || !isProfileValue(field, value)) return false;
      await put(phoneHash, field as ProfileField, value, at);
      return true;
    },
    async skip(phoneHash, at) {
      if (!/^[0-9a-f]{16,128}$/.test(phoneHash)) return;
      await put(phoneHash, SKIPPED, 'yes', at);
    },
    async regionsOf(phoneHashes) {
      const regions = new Map<string, string>();
      // The test server scans for an $in: past a few chunks, one read of every region given is cheaper.
      if (phoneHashes.length > 2_000) {
        const wanted = new Set(phoneHashes);
        const rows = await answers.find({ field: 'region' }, { _id: 0, respondent: 1, value: 1 }).lean<StoredProfileAnswer[]>().exec();
        for (const row of rows) if (wanted.has(row.respondent) && row.value !== 'prefer_not_to_say') regions.set(row.respondent, row.value);
        return regions;
      }
      for (let i = 0; i < phoneHashes.length; i += 1_000) {
        const ids = phoneHashes.slice(i, i + 1_000).map((hash) => `${hash}:region`);
        const rows = await answers.find({ _id: { $in: ids } }, { respondent: 1, value: 1 }).lean<StoredProfileAnswer[]>().exec();
        for (const row of rows) if (row.value !== 'prefer_not_to_say') regions.set(row.respondent, row.value);
      }
      return regions;
    },
    async find(phoneHash) {
      // One read by _id per field: the server used here scans the collection for a filter on any other field.
      const found = await Promise.all(
        [...PROFILE_FIELD_NAMES, SKIPPED].map((field) => answers.findById(`${phoneHash}:${field}`).lean<StoredProfileAnswer>().exec()),
      );
      const stored = found.filter((answer): answer is StoredProfileAnswer => answer !== null);
      if (!stored.length) return undefined;
      const profile: { -readonly [K in keyof RespondentProfile]: RespondentProfile[K] } = { respondent: phoneHash };
      for (const answer of stored) {
        if (answer.field === SKIPPED) profile.skippedAt = answer.at;
        else if ((PROFILE_FIELD_NAMES as readonly string[]).includes(answer.field)) profile[answer.field] = answer.value;
      }
      return profile;
    },
  };
}
