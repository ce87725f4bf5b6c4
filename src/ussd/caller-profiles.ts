import { modelOn } from '../platform/mongo';
import { ConnectionStates, Schema, type Connection, type Model } from 'mongoose';
import { withTimeout } from '../platform/with-timeout';
import type { LanguageProfile } from './session-store';

interface CallerProfile {
  _id: string; // phone hash
  language: string;
  /** The session that last set the language, and the language before that session changed it. */
  setInSession?: string;
  languageBefore?: string | null;
  updatedAt: Date;
}

/** What is remembered of a phone, keyed by the keyed hash of its number: its language. */
export interface CallerProfiles {
  /** The remembered language; undefined when unknown or when the database does not answer in time. */
  language(phoneHash: string): Promise<string | undefined>;
  /** The stored profile; null when there is none; undefined when the database did not answer in time. */
  find(phoneHash: string): Promise<LanguageProfile | null | undefined>;
  /** Every profile, in batches, to fill the Redis cache. */
  each(batchSize: number, visit: (batch: Array<{ phoneHash: string; profile: LanguageProfile }>) => Promise<void>): Promise<number>;
  /** Stores the choice and returns the profile as it now stands. */
  setLanguage(phoneHash: string, language: string, sessionId: string, at: Date): Promise<LanguageProfile>;
}

export function createCallerProfiles(connection: Connection, lookupTimeoutMs = 300): CallerProfiles {
  const profiles: Model<CallerProfile> = modelOn<CallerProfile>(
    connection,
    'CallerProfile',
    () =>
      new Schema<CallerProfile>(
        { _id: String, language: String, setInSession: String, languageBefore: String, updatedAt: Date },
        { collection: 'caller_profiles', versionKey: false },
      ),
  );
  const asProfile = (stored: CallerProfile): LanguageProfile => ({
    language: stored.language,
    setInSession: stored.setInSession,
    languageBefore: stored.languageBefore ?? null,
  });
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
      return (await find(phoneHash))?.language ?? undefined;
    },
    async setLanguage(phoneHash, language, sessionId, at) {
      const current = await profiles.findById(phoneHash).lean<CallerProfile>().exec();
      const languageBefore = current?.setInSession === sessionId ? (current.languageBefore ?? null) : (current?.language ?? null);
      await profiles.updateOne(
        { _id: phoneHash },
        { $set: { language, setInSession: sessionId, languageBefore, updatedAt: at } },
        { upsert: true },
      );
      return { language, setInSession: sessionId, languageBefore };
    },
  };
}
