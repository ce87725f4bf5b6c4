import type Redis from 'ioredis';
import { withTimeout } from '../platform/with-timeout';
import type { ConversationState } from './conversation';

/** What Redis keeps for one USSD session. No phone number and no typed text in clear. */
export interface StoredSession {
  readonly conversation: ConversationState;
  /** AT's `text` consumed so far: the next input is what follows it. */
  readonly consumed: string;
  /** The last request's text and our reply, to answer a resent request identically. */
  readonly last: { readonly text: string; readonly reply: string };
}

export class SessionStoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
    this.name = 'SessionStoreUnavailable';
  }
}

export interface SessionStore {
  get(sessionId: string): Promise<StoredSession | undefined>;
  save(sessionId: string, session: StoredSession): Promise<void>;
  /** A session left without END, offered to the same phone when it dials again. */
  getResumable(phoneHash: string): Promise<ConversationState | undefined>;
  setResumable(phoneHash: string, conversation: ConversationState | undefined): Promise<void>;
}

/**
 * Sessions in Redis with a TTL. Every call is bounded in time and fails fast while Redis is
 * down, so the caller falls back to replaying AT's text instead of waiting.
 */
export function createRedisSessionStore(redis: Redis, options: { prefix: string; ttlSeconds: number; resumeSeconds: number; timeoutMs?: number }): SessionStore {
  const timeoutMs = options.timeoutMs ?? 250;
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready') return;
    // Still opening its first connection (just started): worth a short wait. Reconnecting: fail fast.
    if (!['wait', 'connecting', 'connect'].includes(redis.status)) throw new SessionStoreUnavailable(new Error(`redis ${redis.status}`));
    await withTimeout(new Promise<void>((resolve) => redis.once('ready', () => resolve())), timeoutMs, 'redis ready').catch((err: unknown) => {
      throw new SessionStoreUnavailable(err);
    });
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

  return {
    async get(sessionId) {
      const raw = await guarded('session get', () => redis.get(sessionKey(sessionId)));
      return raw ? (JSON.parse(raw) as StoredSession) : undefined;
    },
    async save(sessionId, session) {
      await guarded('session save', () => redis.set(sessionKey(sessionId), JSON.stringify(session), 'EX', options.ttlSeconds));
    },
    async getResumable(phoneHash) {
      if (options.resumeSeconds === 0) return undefined;
      const raw = await guarded('resume get', () => redis.get(resumeKey(phoneHash)));
      return raw ? (JSON.parse(raw) as ConversationState) : undefined;
    },
    async setResumable(phoneHash, conversation) {
      if (options.resumeSeconds === 0) return;
      await guarded<unknown>('resume set', () =>
        conversation ? redis.set(resumeKey(phoneHash), JSON.stringify(conversation), 'EX', options.resumeSeconds) : redis.del(resumeKey(phoneHash)),
      );
    },
  };
}
