import { randomUUID } from 'node:crypto';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createCallerProfiles } from '../../src/ussd/caller-profiles';
import { createRedisSessionStore } from '../../src/ussd/session-store';
import { ussdModule } from '../../src/ussd/ussd-module';
import { warmLanguageCache } from '../../src/ussd/warm-language-cache';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig } from '../support/test-env';

// The api role alone: no worker has filled the language cache yet.
describe('the remembered language, cached in Redis in front of MongoDB', () => {
  let running: RunningSafeline;
  let token: string;
  const config = testConfig({ SAFELINE_ROLE: 'api' });

  beforeAll(async () => {
    token = config.ussd.callbackToken;
    running = await startSafeline(config, captureLogger('warn').logger, [ussdModule]);
    await running.infra.mongo.opened;
  });
  afterAll(() => running.stop());

  const seed = async (phone: string, language: string): Promise<void> => {
    const hash = createPhoneProtection(config.secrets).hash(phone);
    await createCallerProfiles(running.infra.mongo.connection).setLanguage(hash, language, 'an-earlier-session', new Date());
  };
  const firstScreen = async (phone: string): Promise<string> => (await caller(running.url, token, phone, `ATUid_${randomUUID()}`).dial()).body;

  it('reads through to MongoDB while the cache is not complete', async () => {
    await seed('+22370555001', 'en');
    expect(await firstScreen('+22370555001')).toMatch(/^CON Stop human trafficking\n1\. /);
  });

  it('after the warm-up, knows every remembered phone from Redis, and a new phone is new', async () => {
    await seed('+22370555002', 'bm');
    const sessions = createRedisSessionStore(running.infra.redis.client, { prefix: config.queuePrefix, ttlSeconds: 60, resumeSeconds: 60 });
    const profiles = createCallerProfiles(running.infra.mongo.connection);
    expect(await warmLanguageCache(profiles, sessions, captureLogger().logger)).toBe(2);
    expect(await sessions.profilesComplete()).toBe(true);
    expect(await warmLanguageCache(profiles, sessions, captureLogger().logger)).toBe(0);
    const hash = createPhoneProtection(config.secrets).hash('+22370555002');
    expect((await sessions.read('none', hash)).profile).toMatchObject({ language: 'bm' });
    expect((await sessions.read('none', createPhoneProtection(config.secrets).hash('+22370555999'))).profile).toBeNull();
    expect(await firstScreen('+22370555002')).toMatch(/^CON Mɔgɔ jago bali/);
    expect(await firstScreen('+22370555999')).toMatch(/^CON Langue \/ Kan \/ Language/);
  });

  it('keeps a cached language a year after the phone last called, renewed by each call', async () => {
    const redis = running.infra.redis.client;
    const hash = createPhoneProtection(config.secrets).hash('+22370555002');
    const key = `${config.queuePrefix}:ussd:lang:${hash}`;
    const year = 365 * 86_400;
    expect(await redis.ttl(key)).toBeGreaterThan(year - 60);
    await redis.expire(key, 100);
    expect(await firstScreen('+22370555002')).toMatch(/^CON Mɔgɔ jago bali/);
    expect(await redis.ttl(key)).toBeGreaterThan(year - 60);
    // The "no language" mark of an unknown phone stays short.
    const unknown = `${config.queuePrefix}:ussd:lang:${createPhoneProtection(config.secrets).hash('+22370555999')}`;
    const ttl = await redis.ttl(unknown);
    if (ttl !== -2) expect(ttl).toBeLessThanOrEqual(600);
  });
});
