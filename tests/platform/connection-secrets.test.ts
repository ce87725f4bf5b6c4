import { freePort } from '../../src/dev-services/free-port';
import { connectMongo, describeMongoUri } from '../../src/platform/mongo';
import { createRedisConnections, describeRedisUrl } from '../../src/platform/redis';
import { eventually } from '../support/eventually';
import { captureLogger } from '../support/test-env';

// Nothing listens on these ports: the drivers fail to connect and their errors are logged.
describe('connection errors in the logs', () => {
  it('never show the password of MONGODB_URI', async () => {
    const { logger, lines } = captureLogger('warn');
    const uri = `mongodb://safeline:Pa55-secret@127.0.0.1:${await freePort()}/safeline?authSource=admin`;
    const mongo = connectMongo(uri, logger, { initialDelayMs: 50, serverSelectionTimeoutMS: 200 });
    await eventually(() => Promise.resolve(lines()), (found) => found.some((line) => line.includes('mongodb not reachable')), 10_000);
    await mongo.close();
    expect(lines().join('\n')).not.toContain('Pa55-secret');
    expect(describeMongoUri(uri)).toBe(`mongodb://***@127.0.0.1:${uri.split(':')[3]?.split('/')[0] ?? ''}/safeline?authSource=admin`);
  });

  it('never show the password of REDIS_URL', async () => {
    const { logger, lines } = captureLogger('warn');
    const url = `redis://default:Pa55-secret@127.0.0.1:${await freePort()}`;
    const redis = createRedisConnections(url, logger);
    await eventually(() => Promise.resolve(lines()), (found) => found.some((line) => line.includes('redis connection error')), 10_000);
    await redis.close();
    expect(lines().join('\n')).not.toContain('Pa55-secret');
    expect(describeRedisUrl(url)).not.toContain('Pa55-secret');
  });

  it('mask a URL password that a message quotes, even one holding "@" or "/"', () => {
    const { logger, lines } = captureLogger('warn');
    logger.warn({ err: new Error('cannot reach mongodb://u:Pa55@se/cret@db:27017/x') }, 'failed on redis://:Pa55-secret@cache:6379');
    expect(lines().join('\n')).not.toMatch(/Pa55|se\/cret/);
    expect(lines().join('\n')).toContain('mongodb://***@db:27017/x');
  });
});
