import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMongoServerBinary, startMongoServer } from '../../src/dev-services/mongo-server';
import { isListening } from '../../src/dev-services/free-port';
import { startRedisServer } from '../../src/dev-services/redis-server';

/**
 * Starts what the suite needs, unless MONGODB_URI / REDIS_URL name servers to use instead
 * (for instance a real MongoDB 7): the embedded MongoDB-compatible server on SQLite in a fresh
 * directory, and redis-server on a free port when 127.0.0.1:6379 does not answer.
 * Test files find them through SAFELINE_TEST_* variables (see test-env.ts).
 */
export default async function globalSetup(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  const scratch = mkdtempSync(join(tmpdir(), 'safeline-test-'));
  process.env.SAFELINE_TEST_SCRATCH = scratch;

  if (process.env.MONGODB_URI) {
    process.env.SAFELINE_TEST_MONGODB_URI = process.env.MONGODB_URI;
  } else {
    const binaryPath = ensureMongoServerBinary();
    process.env.SAFELINE_TEST_MONGO_BINARY = binaryPath;
    const server = await startMongoServer({ storage: { sqliteDir: join(scratch, 'mongo') }, binaryPath });
    stops.push(() => server.stop());
    process.env.SAFELINE_TEST_MONGODB_URI = server.uri;
  }

  if (process.env.REDIS_URL) {
    process.env.SAFELINE_TEST_REDIS_URL = process.env.REDIS_URL;
  } else if (await isListening('127.0.0.1', 6379)) {
    process.env.SAFELINE_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
  } else {
    const server = await startRedisServer({ dir: join(scratch, 'redis') });
    stops.push(() => server.stop());
    process.env.SAFELINE_TEST_REDIS_URL = server.url;
  }

  (globalThis as { __safelineStops?: typeof stops }).__safelineStops = stops;
}
