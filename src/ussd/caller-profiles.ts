import { ConnectionStates, Schema, type Connection, type Model } from 'mongoose';
import { withTimeout } from '../platform/with-timeout';

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
  /**
   * The language known for this phone when the given session began (a replayed session must start
   * where it really started, even if it chose a language since). undefined when unknown, or when
   * the database does not answer in time: then the caller picks again.
   */
  languageAtStartOf(phoneHash: string, sessionId: string): Promise<string | undefined>;
  language(phoneHash: string): Promise<string | undefined>;
  setLanguage(phoneHash: string, language: string, sessionId: string, at: Date): Promise<void>;
}

export function createCallerProfiles(connection: Connection, lookupTimeoutMs = 300): CallerProfiles {
  const profiles: Model<CallerProfile> =
    (connection.models.CallerProfile as Model<CallerProfile> | undefined) ??
    connection.model<CallerProfile>(
      'CallerProfile',
      new Schema<CallerProfile>({ _id: String, language: String, setInSession: String, languageBefore: String, updatedAt: Date }, { collection: 'caller_profiles', versionKey: false }),
    );
  const find = async (phoneHash: string): Promise<CallerProfile | undefined> => {
    if (connection.readyState !== ConnectionStates.connected) return undefined;
    const found = await withTimeout(profiles.findById(phoneHash).lean<CallerProfile>().exec(), lookupTimeoutMs, 'profile lookup').catch(() => null);
    return found ?? undefined;
  };
  return {
    async languageAtStartOf(phoneHash, sessionId) {
      const profile = await find(phoneHash);
      if (!profile) return undefined;
      return profile.setInSession === sessionId ? (profile.languageBefore ?? undefined) : profile.language;
    },
    async language(phoneHash) {
      return (await find(phoneHash))?.language;
    },
    async setLanguage(phoneHash, language, sessionId, at) {
      const current = await profiles.findById(phoneHash).lean<CallerProfile>().exec();
      const languageBefore = current?.setInSession === sessionId ? (current.languageBefore ?? null) : (current?.language ?? null);
      await profiles.updateOne({ _id: phoneHash }, { $set: { language, setInSession: sessionId, languageBefore, updatedAt: at } }, { upsert: true });
    },
  };
}
