import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { checkEvictionPolicy } from '../../src/platform/redis';
import { captureLogger } from '../support/test-env';

// A redis-server of the test's own: its policy is changed here, never the shared one's.
describe("Redis's eviction policy, checked at start", () => {
  let server: RunningRedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer({ dir: mkdtempSync(join(tmpdir(), 'safeline-policy-')) });
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('says nothing when Redis refuses writes rather than evict (noeviction)', async () => {
    const { logger, lines } = captureLogger('warn');
    expect(await checkEvictionPolicy(redis, logger)).toBe('noeviction');
    expect(lines()).toEqual([]);
  });

  it('logs an error naming the policy when Redis may evict keys', async () => {
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const { logger, lines } = captureLogger('warn');
    expect(await checkEvictionPolicy(redis, logger)).toBe('allkeys-lru');
    expect(lines()).toHaveLength(1);
    const line = JSON.parse(lines()[0] ?? '{}') as { level: string; policy: string; msg: string };
    expect(line).toMatchObject({ level: 'error', policy: 'allkeys-lru' });
    expect(line.msg).toMatch(/noeviction/);
  });
});
