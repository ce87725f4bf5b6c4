import Redis, { type RedisOptions } from 'ioredis';
import { maskUrlCredentials } from '../shared/redact';
import type { Logger } from './logger';
import { withTimeout } from './with-timeout';

export type BullClientType = 'client' | 'subscriber' | 'bclient';

export interface RedisConnections {
  /** General-purpose client: sessions, counters, rate limits; also Bull's 'client'. */
  readonly client: Redis;
  /** Shared pub/sub connection; also Bull's 'subscriber'. */
  readonly subscriber: Redis;
  /** For Bull's `createClient`: shares client and subscriber, a new connection for every blocking client. */
  createBullClient(type: BullClientType): Redis;
  /** A connection of its own for a hot path with needs of its own (closed with the others). */
  open(name: string, options?: RedisOptions): Redis;
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Hides the password of a redis URL for logs. */
export function describeRedisUrl(url: string): string {
  return maskUrlCredentials(url);
}

/**
 * Bull (and every key here without a lifetime of its own) needs Redis to refuse writes when full
 * rather than evict: an evicted job, lock or counter is lost silently. Checked once the client is
 * ready; a managed Redis that refuses CONFIG is reported too, since then nobody checked.
 * Returns the policy found (undefined when it could not be read).
 */
export async function checkEvictionPolicy(client: Redis, logger: Logger, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    if (client.status !== 'ready') await withTimeout(new Promise((resolve) => client.once('ready', resolve)), timeoutMs, 'redis ready');
    const answer = (await withTimeout(client.config('GET', 'maxmemory-policy'), 2_000, 'redis config')) as string[];
    const policy = answer[1];
    if (policy !== 'noeviction') {
      logger.error(
        { policy },
        `REDIS EVICTS KEYS: maxmemory-policy is "${policy ?? '?'}"; set it to "noeviction" or queued jobs, locks and counters can vanish`,
      );
    }
    return policy;
  } catch (err) {
    logger.warn({ err }, 'could not read Redis maxmemory-policy: make sure it is "noeviction" (Bull needs it)');
    return undefined;
  }
}

/**
 * One place that opens Redis connections. Bull's guidance: reuse 'client' and 'subscriber'
 * across queues, but give every queue its own blocking client, and let the subscriber and
 * blocking clients retry forever (maxRetriesPerRequest: null, enableReadyCheck: false).
 */
export function createRedisConnections(url: string, logger: Logger): RedisConnections {
  const base: RedisOptions = {
    // Reconnect forever with a capped backoff: Redis may come back at any time.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  };
  const bullSafe: RedisOptions = { ...base, maxRetriesPerRequest: null, enableReadyCheck: false };
  const opened: Redis[] = [];
  const open = (name: string, options: RedisOptions): Redis => {
    const connection = new Redis(url, { ...options, connectionName: `safeline:${name}` });
    let wasDown = false;
    connection.on('error', (err: Error) => {
      if (!wasDown) logger.warn({ err, connection: name }, 'redis connection error');
      wasDown = true;
    });
    connection.on('ready', () => {
      if (wasDown) logger.info({ connection: name }, 'redis connection restored');
      wasDown = false;
    });
    opened.push(connection);
    return connection;
  };

  // The shared client is also Bull's 'client': it must not give up on commands while Redis restarts.
  const client = open('client', bullSafe);
  const subscriber = open('subscriber', bullSafe);
  // Every Bull queue shares these two and adds its own listeners: one per queue is expected, not a leak.
  client.setMaxListeners(100);
  subscriber.setMaxListeners(100);

  return {
    client,
    subscriber,
    createBullClient(type) {
      if (type === 'client') return client;
      if (type === 'subscriber') return subscriber;
      return open('bclient', bullSafe);
    },
    open: (name, options) => open(name, { ...base, ...options }),
    async ping(timeoutMs = 1_000) {
      if (client.status !== 'ready') throw new Error(`connection ${client.status}`);
      await withTimeout(client.ping(), timeoutMs, 'redis ping');
    },
    async close() {
      await Promise.all(
        opened.map(async (connection) => {
          if (connection.status === 'end') return;
          // A blocking client may sit in BRPOPLPUSH; QUIT would wait behind it.
          if (connection.options.connectionName === 'safeline:bclient') {
            connection.disconnect();
            return;
          }
          try {
            await withTimeout(connection.quit(), 1_000, 'redis quit');
          } catch {
            connection.disconnect();
          }
        }),
      );
    },
  };
}
