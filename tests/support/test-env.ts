import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseConfig, type Config, type Environment } from '../../src/config/config';
import { generateSecrets } from '../../src/config/generated-secrets';
import { createLogger, type Logger } from '../../src/platform/logger';

/** Where the global setup put the services (or what MONGODB_URI / REDIS_URL named). */
export function testServices(): { mongodbUri: string; redisUrl: string; scratch: string; mongoBinary: string | undefined } {
  const mongodbUri = process.env.SAFELINE_TEST_MONGODB_URI;
  const redisUrl = process.env.SAFELINE_TEST_REDIS_URL;
  const scratch = process.env.SAFELINE_TEST_SCRATCH;
  if (!mongodbUri || !redisUrl || !scratch) throw new Error('tests/support/global-setup.ts did not run');
  return { mongodbUri, redisUrl, scratch, mongoBinary: process.env.SAFELINE_TEST_MONGO_BINARY };
}

/** Puts a database name into a MongoDB URI, keeping hosts and options. */
export function withDatabase(uri: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error(`not a MongoDB URI: ${uri}`);
  return `${match[1]}/${database}${match[2] ?? ''}`;
}

/** A name unique to this test file and run: a database, a queue prefix, a Redis key prefix. */
export function uniqueName(label: string): string {
  const file = expect.getState().testPath ?? 'unknown';
  const digest = createHash('sha256').update(file).digest('hex').slice(0, 8);
  return `t_${label.replace(/[^a-z0-9]/gi, '').slice(0, 16)}_${digest}_${randomBytes(3).toString('hex')}`;
}

/**
 * The environment of one test file's safeline: its own database and queue prefix, port 0, quiet
 * logs. As variables, for a test that starts safeline as a separate process.
 */
export function testEnvironment(overrides: Environment = {}, label = 'db'): Environment {
  const services = testServices();
  const name = uniqueName(label);
  return {
    ...generateSecrets(),
    MONGODB_URI: withDatabase(services.mongodbUri, name),
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: name,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** The same, as a validated Config for safeline started in the test's own process. */
export const testConfig = (overrides: Environment = {}): Config => parseConfig(testEnvironment(overrides));

/** A logger whose every line is kept in memory, to assert on what would have been written. */
export function captureLogger(level: 'info' | 'debug' | 'warn' = 'debug'): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ level }, sink), lines: () => chunks.join('').split('\n').filter(Boolean) };
}
