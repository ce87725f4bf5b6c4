import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startRedisServer, type RunningRedisServer } from '../../src/dev-services/redis-server';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createCallerProfiles } from '../../src/ussd/caller-profiles';
import { ussdModule } from '../../src/ussd/ussd-module';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig, testServices } from '../support/test-env';

// Its own redis-server, so that it can be stopped in the middle of a session.
describe('USSD while Redis goes down in the middle of a session', () => {
  let redis: RunningRedisServer;
  let running: RunningSafeline;
  let token: string;

  beforeAll(async () => {
    redis = await startRedisServer({ dir: join(testServices().scratch, 'ussd-redis-down') });
    const config = testConfig({ REDIS_URL: redis.url });
    token = config.ussd.callbackToken;
    running = await startSafeline(config, captureLogger('warn').logger, [ussdModule]);
    await running.infra.mongo.opened;
  });
  afterAll(async () => {
    await running.stop();
    await redis.stop();
  });

  // Français, Learn, first topic, next page, back a page, main menu, Learn again.
  const path = ['1', '1', '1', '98', '0', '00', '1'];

  async function walk(phone: string, stopRedisAfter?: number): Promise<string[]> {
    const call = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
    const screens = [(await call.dial()).body];
    for (const [index, input] of path.entries()) {
      if (index === stopRedisAfter) await redis.stop();
      const reply = await call.type(input);
      expect(reply.status).toBe(200);
      expect(reply.ms).toBeLessThan(1_500);
      screens.push(reply.body);
    }
    return screens;
  }

  it('gives the caller the same screens, replaying AT\'s text through the flows', async () => {
    const expected = await walk('+22370111001');
    const withOutage = await walk('+22370111002', 2);
    expect(withOutage).toEqual(expected);
    expect(expected.every((screen) => /^(CON|END) /.test(screen))).toBe(true);
    // readiness says so meanwhile
    const ready = await fetch(`${running.url}/readyz`, { headers: { authorization: `Bearer ${running.infra.config.metricsToken ?? ''}` } });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ down: ['redis'] });
  });

  it('lets a first-time caller choose a language while Redis is still down, and remembers it in MongoDB', async () => {
    const phone = '+22370111003';
    const call = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
    expect((await call.dial()).body).toMatch(/^CON Langue \/ Kan \/ Language/);
    const home = await call.type('3');
    expect(home.body).toMatch(/^CON Stop human trafficking\n1\. /);
    const hash = createPhoneProtection(running.infra.config.secrets).hash(phone);
    expect(await createCallerProfiles(running.infra.mongo.connection).language(hash)).toBe('en');
  });

  it('still gives each report its own code while Redis is down, and stores it under the code shown', async () => {
    const store = createHotlineStore(running.infra.mongo.connection);
    const codes: string[] = [];
    for (const phone of ['+22370111004', '+22370111005']) {
      const call = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
      let reply = await call.dial();
      // English, report, migration, Gao, urgent, no callback.
      for (const input of ['3', '2', '6', '8', '2', '2']) reply = await call.type(input);
      expect(reply.body).toMatch(/^END /);
      codes.push(/\b([2-9A-HJKMNP-TV-Z]{6})\b/.exec(reply.body)?.[1] ?? '');
    }
    expect(new Set(codes).size).toBe(2);
    for (const code of codes) expect(await store.findReport(code)).toMatchObject({ _id: code, kind: 'migration', region: 'gao' });
  });
});
