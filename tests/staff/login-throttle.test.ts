import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createLoginThrottle } from '../../src/staff/login-throttle';
import { staffModule } from '../../src/staff/staff-module';
import { createStaffStore } from '../../src/staff/staff-store';
import { PASSWORD, createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig, uniqueName } from '../support/test-env';

/** Sign-in throttling as denial of service: an attacker who knows an agent's email must not keep the agent out. */
let running: RunningSafeline;

beforeAll(async () => {
  const config = testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES_PER_IP: '30', LOGIN_MAX_FAILURES_PER_ACCOUNT_NEW_DEVICES: '12' });
  running = await startSafeline(config, captureLogger('warn').logger, [staffModule]);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['awa@safeline.test', ['hotline_agent']],
    ['moussa@safeline.test', ['hotline_agent']],
    ['fanta@safeline.test', ['hotline_agent']],
  ]);
});
afterAll(() => running.stop());

/** A browser at `ip` (the test talks through the loopback, a trusted proxy: its X-Forwarded-For is believed). */
function browserAt(ip: string) {
  const client = staffClient(() => running.url);
  const from = { 'x-forwarded-for': ip };
  return {
    client,
    async signIn(email: string, password = PASSWORD) {
      await client.call('GET', '/console/login', undefined, from);
      client.setCsrf(client.jar.get('sl_csrf') ?? '');
      const res = await client.call('POST', '/api/v1/auth/login', { email, password }, from);
      if (res.status === 200) client.setCsrf(String(res.json.csrfToken));
      return res;
    },
  };
}

describe('sign-in under attack', () => {
  it('an attacker\u2019s failures from one IP do not stop the agent signing in from another', async () => {
    const attacker = browserAt('203.0.113.66');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await attacker.signIn('awa@safeline.test', `guess ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // The attacker is slowed down even with the right password...
    expect((await attacker.signIn('awa@safeline.test')).status).toBe(429);
    // ...the agent, from her office, is not.
    const agent = await browserAt('198.51.100.20').signIn('awa@safeline.test');
    expect(agent.status).toBe(200);
    expect(agent.headers.getSetCookie().find((cookie) => cookie.startsWith('sl_device='))).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/i);
  });

  it('lets a browser that signed in before in while the account is guessed at from many addresses; new browsers wait', async () => {
    const agent = browserAt('198.51.100.21');
    expect((await agent.signIn('moussa@safeline.test')).status).toBe(200);
    expect((await agent.client.call('POST', '/api/v1/auth/logout', {}, { 'x-forwarded-for': '198.51.100.21' })).status).toBe(200);

    // A botnet: two guesses from each of many addresses, under every per-address limit, 12 in all.
    for (let i = 0; i < 6; i += 1) {
      const bot = browserAt(`192.0.2.${i + 1}`);
      for (let j = 0; j < 2; j += 1) expect((await bot.signIn('moussa@safeline.test', `guess ${i}-${j}`)).status).toBe(401);
    }
    const stranger = await browserAt('192.0.2.200').signIn('moussa@safeline.test');
    expect(stranger.status).toBe(429);
    expect(Number(stranger.headers.get('retry-after'))).toBeGreaterThan(0);

    // Her own browser, even from another address (a phone's network), with the right password.
    expect((await agent.signIn('moussa@safeline.test')).status).toBe(200);
    const roaming = browserAt('100.64.0.9');
    roaming.client.jar.set('sl_device', agent.client.jar.get('sl_device') ?? '');
    expect((await roaming.signIn('moussa@safeline.test')).status).toBe(200);

    // A device cookie that is altered, or was given for another account, is no pass.
    const forged = browserAt('192.0.2.201');
    forged.client.jar.set('sl_device', `${(agent.client.jar.get('sl_device') ?? '').slice(0, -2)}xx`);
    expect((await forged.signIn('moussa@safeline.test')).status).toBe(429);
    const other = browserAt('192.0.2.202');
    expect((await other.signIn('fanta@safeline.test')).status).toBe(200);
    const borrowed = browserAt('192.0.2.203');
    borrowed.client.jar.set('sl_device', other.client.jar.get('sl_device') ?? '');
    expect((await borrowed.signIn('moussa@safeline.test')).status).toBe(429);
  });
});

describe('the throttle itself', () => {
  const prefix = uniqueName('throttle');
  let clock = 1_800_000_000_000;
  const throttle = () =>
    createLoginThrottle(running.infra.redis.client, {
      prefix,
      limits: { perAccount: 3, perIp: 100, perAccountNewDevices: 100, windowSeconds: 900, firstDelaySeconds: 10 },
      now: () => clock,
    });
  const client = { email: 'someone@safeline.test', ip: '203.0.113.5' };

  it('slows down rather than locks: each failure past the limit doubles the wait, up to the window', async () => {
    const t = throttle();
    expect([await t.attempt(client), await t.attempt(client), await t.attempt(client)]).toEqual([0, 0, 0]);
    expect(await t.attempt(client)).toBe(10);
    clock += 10_000;
    expect(await t.attempt(client)).toBe(0); // one more try after the wait
    expect(await t.attempt(client)).toBe(20);
    clock += 20_000;
    expect(await t.attempt(client)).toBe(0);
    expect(await t.attempt(client)).toBe(40);
    for (let i = 0; i < 8; i += 1) {
      clock += 900_000;
      expect(await t.attempt(client)).toBe(0);
    }
    expect(await t.attempt(client)).toBe(900); // never longer than the window
    // Every key it made has a lifetime.
    const keys = await running.infra.redis.client.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(await running.infra.redis.client.pttl(key)).toBeGreaterThan(0);
  });

  it('a success clears its client\u2019s count', async () => {
    const t = throttle();
    const someone = { email: 'other@safeline.test', ip: '203.0.113.6' };
    for (let i = 0; i < 3; i += 1) expect(await t.attempt(someone)).toBe(0);
    await t.succeeded(someone);
    for (let i = 0; i < 3; i += 1) expect(await t.attempt(someone)).toBe(0);
    expect(await t.attempt(someone)).toBeGreaterThan(0);
  });
});
