import { modelOn } from '../platform/mongo';
import { ConnectionStates, Schema, type Connection, type Model } from 'mongoose';
import { withTimeout } from '../platform/with-timeout';
import type { LanguageProfile } from './session-store';

interface CallerProfile {
  _id: string; // phone hash
  language?: string;
  /** The session that last set the language, and the language before that session changed it. */
  setInSession?: string;
  languageBefore?: string | null;
  /** The respondent profile was asked (its answers are kept by results/respondent-profiles.ts, not here). */
  profileAsked?: boolean;
  profileAskedIn?: string;
  profileAskedBefore?: boolean;
  updatedAt: Date;
}

/** Whether the profile counted as asked when `sessionId` began: a replay of that session must start as it did. */
export function profileAskedAtStart(profile: LanguageProfile | null | undefined, sessionId: string): boolean {
  if (!profile) return false;
  return profile.profileAskedIn === sessionId ? profile.profileAskedBefore === true : profile.profileAsked === true;
}

/** The profile once `sessionId` has asked the respondent profile. */
export function withProfileAsked(profile: LanguageProfile | null | undefined, sessionId: string): LanguageProfile {
  const before = profileAskedAtStart(profile, sessionId);
  return { ...(profile ?? { language: '' }), profileAsked: true, profileAskedIn: sessionId, profileAskedBefore: before };
}

/** The profile-asked fields of a profile, to carry over when another part of it changes. */
export function profileAskedFields(profile: Partial<LanguageProfile> | null | undefined): Partial<LanguageProfile> {
  if (!profile?.profileAsked) return {};
  const { profileAskedIn, profileAskedBefore } = profile;
  return { profileAsked: true, ...(profileAskedIn ? { profileAskedIn, profileAskedBefore: profileAskedBefore === true } : {}) };
}

/** What is remembered of a phone, keyed by the keyed hash of its number: its language, and whether its profile was asked. */
export interface CallerProfiles {
  /** The remembered language; undefined when unknown or when the database does not answer in time. */
  language(phoneHash: string): Promise<string | undefined>;
  /** The stored profile; null when there is none; undefined when the database did not answer in time. */
  find(phoneHash: string): Promise<LanguageProfile | null | undefined>;
  /** Every profile, in batches, to fill the Redis cache. */
  each(batchSize: number, visit: (batch: Array<{ phoneHash: string; profile: LanguageProfile }>) => Promise<void>): Promise<number>;
  /** Stores the choice and returns the profile as it now stands. */
  setLanguage(phoneHash: string, language: string, sessionId: string, at: Date): Promise<LanguageProfile>;
  /** Remembers that session `sessionId` asked the respondent profile; returns the profile as it now stands. */
  markProfileAsked(phoneHash: string, sessionId: string, at: Date): Promise<LanguageProfile>;
}

export function createCallerProfiles(connection: Connection, lookupTimeoutMs = 300): CallerProfiles {
  const profiles: Model<CallerProfile> =
    modelOn<CallerProfile>(connection, 'CallerProfile', () => new Schema<CallerProfile>(
      {
        _id: String, language: String, setInSession: String, languageBefore: String,
        profileAsked: Boolean, profileAskedIn: String, profileAskedBefore: Boolean, updatedAt: Date,
      },
      { collection: 'caller_profiles', versionKey: false },
    ));
  const asProfile = (stored: CallerProfile): LanguageProfile => ({
    language: stored.language ?? '',
    setInSession: stored.setInSession,
    languageBefore: stored.languageBefore ?? null,
    ...profileAskedFields(stored),
  });
  const upsert = (phoneHash: string, update: object): Promise<CallerProfile | null> =>
    profiles.findOneAndUpdate({ _id: phoneHash }, update, { upsert: true, returnDocument: 'after' }).lean<CallerProfile>().exec();
  const find: CallerProfiles['find'] = async (phoneHash) => {
    if (connection.readyState !== ConnectionStates.connected) return undefined;
    try {
      const found = await withTimeout(profiles.findById(phoneHash).lean<CallerProfile>().exec(), lookupTimeoutMs, 'profile lookup');
      return found ? asProfile(found) : null;
    } catch {
      return undefined;
    }
  };
  return {
    find,
    async each(batchSize, visit) {
      let count = 0;
      let after = '';
      // Pages by _id, the one lookup the MongoDB-compatible server serves from an index.
      for (;;) {
        const page = await profiles.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(batchSize).lean<CallerProfile[]>().exec();
        if (!page.length) return count;
        await visit(page.map((stored) => ({ phoneHash: stored._id, profile: asProfile(stored) })));
        count += page.length;
        after = page[page.length - 1]?._id ?? after;
      }
    },
    async language(phoneHash) {
      return (await find(phoneHash))?.language || undefined;
    },
    async setLanguage(phoneHash, language, sessionId, at) {
      const current = await profiles.findById(phoneHash).lean<CallerProfile>().exec();
      const languageBefore = current?.setInSession === sessionId ? (current.languageBefore ?? null) : (current?.language ?? null);
      const update = { $set: { language, setInSession: sessionId, languageBefore, updatedAt: at } };
      const stored = await upsert(phoneHash, update);
      return stored ? asProfile(stored) : { language, setInSession: sessionId, languageBefore };
    },
    async markProfileAsked(phoneHash, sessionId, at) {
      const current = await profiles.findById(phoneHash).lean<CallerProfile>().exec();
      // Each answer of a session marks it: write once (fewer writes to the document the language lives in too).
      if (current?.profileAsked && current.profileAskedIn === sessionId) return asProfile(current);
      const { profileAsked, profileAskedIn, profileAskedBefore } = withProfileAsked(current ? asProfile(current) : null, sessionId);
      const update = { $set: { profileAsked, profileAskedIn, profileAskedBefore, updatedAt: at } };
      const stored = await upsert(phoneHash, update);
      return stored ? asProfile(stored) : { language: '', profileAsked, profileAskedIn, profileAskedBefore };
    },
  };
}
