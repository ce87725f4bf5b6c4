import mongoose, { type Connection, type Model, type Schema } from 'mongoose';
import { maskUrlCredentials } from '../shared/redact';
import type { Logger } from './logger';
import { sleep, withTimeout } from './with-timeout';

export interface MongoHandle {
  /** Register models on this connection; operations buffer until it is open. */
  readonly connection: Connection;
  /** Resolves once the first connection is open (after as many retries as it takes). */
  readonly opened: Promise<void>;
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface MongoOptions {
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly serverSelectionTimeoutMS?: number;
}

/** Hides credentials: "mongodb://user:pw@host/db" -> "mongodb://***@host/db". */
export function describeMongoUri(uri: string): string {
  return maskUrlCredentials(uri);
}

/**
 * Opens a mongoose connection of its own (no global mongoose state) and keeps retrying
 * with exponential backoff while the server is down at start. After the first success the
 * driver's own monitoring reconnects by itself.
 */
export function connectMongo(uri: string, logger: Logger, options: MongoOptions = {}): MongoHandle {
  const connection = mongoose.createConnection();
  const initialDelayMs = options.initialDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  let closing = false;

  const opened = (async () => {
    for (let attempt = 1, delay = initialDelayMs; !closing; attempt += 1, delay = Math.min(delay * 2, maxDelayMs)) {
      try {
        await connection.openUri(uri, {
          serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3_000,
          // FerretDB has no sessions; the driver must not try retryable writes through them.
          retryWrites: false,
        });
        logger.info({ mongodb: describeMongoUri(uri), attempt }, 'mongodb connected');
        return;
      } catch (err) {
        if (closing) return;
        logger.warn({ err, attempt, retryInMs: delay }, 'mongodb not reachable, retrying');
        await sleep(delay);
      }
    }
  })();

  return {
    connection,
    opened,
    async ping(timeoutMs = 1_000) {
      const db = connection.readyState === mongoose.ConnectionStates.connected ? connection.db : undefined;
      if (!db) throw new Error('not connected');
      await withTimeout(db.command({ ping: 1 }), timeoutMs, 'mongodb ping');
    },
    async close() {
      closing = true;
      await connection.close(true).catch(() => undefined);
      await opened;
    },
  };
}

/** The connection's model of that name, registered on first use (a connection keeps one per name). */
export function modelOn<T>(connection: Connection, name: string, schema: () => Schema<T>): Model<T> {
  return (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema());
}
