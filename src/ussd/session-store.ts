import type Redis from 'ioredis';
import { COUNT_HITS_LUA, hitArguments, type RateCounter } from '../platform/callback-guard';
import { withTimeout } from '../platform/with-timeout';
import type { ConversationState } from './conversation';

/**
 * What Redis keeps for one USSD session: no phone number (only its keyed hash). What the caller typed
 * (AT's `text`, which AT itself resends on every hop) and the flow's variables live here for the
 * session's TTL only.
 */
export interface StoredSession {
  /** Keyed hash of the caller's number: a later hop from another number is refused. */
  readonly phoneHash: string;
  /** The caller's language profile as the session's first hop found it (null: none). */
  readonly profile?: LanguageProfile | null;
  readonly conversation: ConversationState;
  /** AT's `text` consumed so far: the next input is what follows it. */
  readonly consumed: string;
  /** The last request's text and our reply, to answer a resent request identically. */
  readonly last: { readonly text: string; readonly reply: string };
  /** A session of the console's phone (see TestCalls): its events were shown, never applied. */
  readonly test?: true;
}

/** The language remembered for a phone, and which session set it (see CallerProfiles). */
export interface LanguageProfile {
  /** '' when none was chosen (the phone is known for its respondent profile only). */
  readonly language: string;
  readonly setInSession?: string;
  readonly languageBefore?: string | null;
  /** The respondent profile was asked (answered or skipped): flows skip it. Its answers are not cached. */
  readonly profileAsked?: boolean;
  /** The session that last asked it, and whether it had been asked before that session (for replays, as languageBefore). */
  readonly profileAskedIn?: string;
  readonly profileAskedBefore?: boolean;
}

/** Everything a hop needs from Redis, read in one round trip. */
export interface HopSnapshot {
  readonly session?: StoredSession;
  /** A session this phone left without END, offered when it dials again. */
  readonly resumable?: ConversationState;
  /** The cached language profile; null = known to have none; undefined = not cached. */
  readonly profile: LanguageProfile | null | undefined;
  /** Over a rate limit counted in the same round trip: milliseconds until it lifts (0: not over). */
  readonly waitMs: number;
}

/** A later hop's read: its session, and the rate limits counted with it. */
export interface SessionRead {
  readonly session?: StoredSession;
  readonly waitMs: number;
}

export class SessionStoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
    this.name = 'SessionStoreUnavailable';
  }
}

export interface SessionStore {
  /**
   * A session's first hop: the session (if AT resent it), the resume offer and the language, in one
   * round trip that also counts the hop against `counters` (see COUNT_HITS_LUA).
   */
  read(sessionId: string, phoneHash: string, counters?: readonly RateCounter[]): Promise<HopSnapshot>;
  /** Any later hop: the session alone, counted against `counters` in the same round trip. */
  readSession(sessionId: string, counters?: readonly RateCounter[]): Promise<SessionRead>;
  readProfile(phoneHash: string): Promise<LanguageProfile | null | undefined>;
  /**
   * Saves the session and, in the same round trip, where this phone may resume ("keep" leaves an
   * earlier session on offer, "clear" removes it) and a language chosen in this hop.
   */
  write(
    sessionId: string,
    session: StoredSession,
    resume: 'point-here' | 'keep' | 'clear',
    profile?: LanguageProfile,
    outbox?: readonly object[],
  ): Promise<void>;
  /** The list the worker's relay moves into Bull. */
  readonly outboxKey: string;
  cacheProfile(phoneHash: string, profile: LanguageProfile | null): Promise<void>;
  /** Loads every remembered language into the cache, then marks the cache complete (see warmLanguageCache). */
  fillProfiles(profiles: ReadonlyArray<{ phoneHash: string; profile: LanguageProfile }>): Promise<void>;
  markProfilesComplete(): Promise<void>;
  profilesComplete(): Promise<boolean>;
}

/** Phones not seen are cached as "no language" this long, so a burst of first calls asks MongoDB once. */
const UNKNOWN_PROFILE_SECONDS = 600;
/**
 * A remembered language stays cached a year after the phone last called (each hop renews it).
 * MongoDB keeps the choice; once the cache is complete, a phone gone from it for a year is asked
 * its language again, as a new caller is.
 */
export const PROFILE_CACHE_SECONDS = 365 * 86_400;

/**
 * Sessions in Redis with a TTL, one round trip to read and one to write per hop; the resume offer
 * is a pointer from the phone's hash to its last unfinished session. Every call is bounded in time
 * and fails fast while Redis is down, so the hop falls back to replaying AT's text instead of waiting.
 */
export function createRedisSessionStore(
  redis: Redis,
  options: { prefix: string; ttlSeconds: number; resumeSeconds: number; timeoutMs?: number },
): SessionStore {
  const timeoutMs = options.timeoutMs ?? 250;
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready') return;
    // Still opening its first connection (just started): worth a short wait. Reconnecting: fail fast.
    if (!['wait', 'connecting', 'connect'].includes(redis.status)) throw new SessionStoreUnavailable(new Error(`redis ${redis.status}`));
    await withTimeout(new Promise<void>((resolve) => redis.once('ready', () => resolve())), timeoutMs, 'redis ready').catch(
      (err: unknown) => {
        throw new SessionStoreUnavailable(err);
      },
    );
  };
  const guarded = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    await ready();
    try {
      return await withTimeout(run(), timeoutMs, what);
    } catch (err) {
      throw new SessionStoreUnavailable(err);
    }
  };
  const sessionKey = (id: string): string => `${options.prefix}:ussd:session:${id}`;
  const resumeKey = (hash: string): string => `${options.prefix}:ussd:resume:${hash}`;
  const profileKey = (hash: string): string => `${options.prefix}:ussd:lang:${hash}`;
  const completeKey = `${options.prefix}:ussd:lang:complete`;
  // Defined once per connection; ioredis sends it by its SHA (EVALSHA), the script text only once.
  const countAndReadLua = `${COUNT_HITS_LUA}\nreturn {wait, unpack(redis.call('MGET', unpack(KEYS, counters + 1)))}`;
  if (!('ussdCountAndRead' in redis)) redis.defineCommand('ussdCountAndRead', { lua: countAndReadLua });
  type CountAndRead = (...args: Array<string | number>) => Promise<Array<string | number | null>>;
  const countAndRead = (redis as unknown as { ussdCountAndRead: CountAndRead }).ussdCountAndRead.bind(redis);
  const outboxKey = `${options.prefix}:ussd:outbox`;
  const NONE = '-';
  // A session stays readable for as long as it may be offered for resuming.
  const sessionSeconds = Math.max(options.ttlSeconds, options.resumeSeconds);
  // Counts the hop and reads its keys in one script: a rate limit costs the hop no extra round trip.
  type Counted = { waitMs: number; values: Array<string | null> };
  const countAndGet = async (what: string, counters: readonly RateCounter[], keys: string[]): Promise<Counted> => {
    if (!counters.length) return { waitMs: 0, values: await guarded(what, () => redis.mget(...keys)) };
    const hits = hitArguments(counters);
    const [wait, ...values] = await guarded(what, () => countAndRead(hits.keys.length + keys.length, ...hits.keys, ...keys, ...hits.args));
    return { waitMs: Number(wait), values: keys.map((_key, i) => (values[i] ?? null) as string | null) };
  };
  const parseProfile = (profile: string | null | undefined, complete: string | null | undefined): LanguageProfile | null | undefined =>
    profile === NONE ? null : profile ? (JSON.parse(profile) as LanguageProfile) : complete ? null : undefined;

  return {
    async read(sessionId, phoneHash, counters = []) {
      const keys = [sessionKey(sessionId), resumeKey(phoneHash), profileKey(phoneHash), completeKey];
      const { waitMs, values } = await countAndGet('session read', counters, keys);
      const [session, resumeId, profile, complete] = values;
      let resumable: ConversationState | undefined;
      if (waitMs === 0 && resumeId && resumeId !== sessionId && options.resumeSeconds > 0) {
        const earlier = await guarded('resume read', () => redis.get(sessionKey(resumeId)));
        resumable = earlier ? (JSON.parse(earlier) as StoredSession).conversation : undefined;
      }
      const stored = session ? (JSON.parse(session) as StoredSession) : undefined;
      return { session: stored, resumable, profile: parseProfile(profile, complete), waitMs };
    },
    async readSession(sessionId, counters = []) {
      const { waitMs, values: [raw] } = await countAndGet('session read', counters, [sessionKey(sessionId)]);
      return { session: raw ? (JSON.parse(raw) as StoredSession) : undefined, waitMs };
    },
    async readProfile(phoneHash) {
      const [profile, complete] = await guarded('profile read', () => redis.mget(profileKey(phoneHash), completeKey));
      return parseProfile(profile, complete);
    },
    outboxKey,
    async write(sessionId, session, resume, profile, outbox) {
      await guarded('session write', () => {
        // One transaction: a session that moved on and the events it produced are kept together.
        const batch = redis.multi().set(sessionKey(sessionId), JSON.stringify(session), 'EX', sessionSeconds);
        if (outbox?.length) batch.rpush(outboxKey, ...outbox.map((item) => JSON.stringify(item)));
        if (options.resumeSeconds > 0 && resume === 'point-here') {
          batch.set(resumeKey(session.phoneHash), sessionId, 'EX', options.resumeSeconds);
        }
        if (options.resumeSeconds > 0 && resume === 'clear') batch.del(resumeKey(session.phoneHash));
        if (profile) batch.set(profileKey(session.phoneHash), JSON.stringify(profile), 'EX', PROFILE_CACHE_SECONDS);
        else if (session.profile) batch.expire(profileKey(session.phoneHash), PROFILE_CACHE_SECONDS);
        return batch.exec();
      });
    },
    async cacheProfile(phoneHash, profile) {
      await guarded('profile cache', () =>
        profile
          ? redis.set(profileKey(phoneHash), JSON.stringify(profile), 'EX', PROFILE_CACHE_SECONDS)
          : redis.set(profileKey(phoneHash), NONE, 'EX', UNKNOWN_PROFILE_SECONDS, 'NX'),
      );
    },
    async fillProfiles(profiles) {
      if (!profiles.length) return;
      await guarded('profile fill', () => {
        const batch = redis.pipeline();
        for (const { phoneHash, profile } of profiles) {
          batch.set(profileKey(phoneHash), JSON.stringify(profile), 'EX', PROFILE_CACHE_SECONDS);
        }
        return batch.exec();
      });
    },
    async markProfilesComplete() {
      await guarded('profiles complete', () => redis.set(completeKey, new Date().toISOString()));
    },
    async profilesComplete() {
      return (await guarded('profiles complete?', () => redis.exists(completeKey))) === 1;
    },
  };
}
