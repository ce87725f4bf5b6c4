import { randomUUID } from 'node:crypto';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { campaignsModule } from '../../src/campaigns/campaigns-module';
import { smsModule } from '../../src/sms/sms-module';
import { loadTexts } from '../../src/texts/texts';
import { ussdModule } from '../../src/ussd/ussd-module';
import { captureLogger, testConfig } from '../support/test-env';

/** What a token holder can make POST /ussd do: one phone per session, per-phone and per-sender limits, the allow-list. */
let running: RunningSafeline;
let token: string;
let phoneSeq = 0;
const newPhone = (): string => `+2237${String(2_000_000 + (phoneSeq += 1) * 7919).padStart(7, '0')}`;
const newSession = (): string => `ATUid_${randomUUID()}`;
const texts = loadTexts('templates');

/** One hop as AT posts it, from `source` (TRUST_PROXY=loopback believes the X-Forwarded-For of a local proxy). */
async function hop(base: string, fields: { sessionId: string; phoneNumber: string; text: string }, source?: string) {
  const res = await fetch(`${base}/ussd?token=${token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(source ? { 'x-forwarded-for': source } : {}) },
    body: new URLSearchParams({ serviceCode: '*321#', networkCode: '61002', ...fields }).toString(),
  });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  const config = testConfig({ USSD_MAX_HOPS_PER_PHONE_PER_MINUTE: '8', CALLBACK_MAX_PER_IP_PER_MINUTE: '30' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, captureLogger('warn').logger, [ussdModule]);
  await running.infra.mongo.opened;
});
afterAll(() => running.stop());

describe('one session, one phone', () => {
  it('refuses a hop whose phone number is not the session\u2019s with END, and leaves the session as it was', async () => {
    const sessionId = newSession();
    const owner = newPhone();
    await hop(running.url, { sessionId, phoneNumber: owner, text: '' });
    const menu = await hop(running.url, { sessionId, phoneNumber: owner, text: '3' });
    expect(menu.body).toMatch(/^CON /);

    // The same text again from another number would otherwise get the owner's last screen back.
    const resent = await hop(running.url, { sessionId, phoneNumber: newPhone(), text: '3' });
    expect(resent).toEqual({ status: 200, body: `END ${texts.t('fr', 'common.try_later')}` });
    const moved = await hop(running.url, { sessionId, phoneNumber: newPhone(), text: '3*1' });
    expect(moved.body).toMatch(/^END /);

    const next = await hop(running.url, { sessionId, phoneNumber: owner, text: '3*1' });
    expect(next.body).toMatch(/^CON /);
    expect(next.body).not.toBe(menu.body);
  });
});

describe('per-phone limit', () => {
  it('answers a phone over its limit with a polite END in its language (HTTP 200), and other phones go on', async () => {
    const phone = newPhone();
    const first = newSession();
    await hop(running.url, { sessionId: first, phoneNumber: phone, text: '' });
    expect((await hop(running.url, { sessionId: first, phoneNumber: phone, text: '3' })).body).toMatch(/^CON /); // English
    const replies = [];
    for (let i = 0; i < 8; i += 1) replies.push(await hop(running.url, { sessionId: newSession(), phoneNumber: phone, text: '' }));
    // 8 hops a minute: the two above and six dials, then the limit.
    expect(replies.slice(0, 6).every((reply) => reply.status === 200 && reply.body.startsWith('CON '))).toBe(true);
    const polite = `END ${texts.t('en', 'common.rate_limited')}`;
    expect(replies.slice(6)).toEqual([{ status: 200, body: polite }, { status: 200, body: polite }]);
    // A later hop of a session in progress is limited too, in the session's language.
    expect(await hop(running.url, { sessionId: first, phoneNumber: phone, text: '3*1' })).toEqual({ status: 200, body: polite });

    expect((await hop(running.url, { sessionId: newSession(), phoneNumber: newPhone(), text: '' })).body).toMatch(/^CON /);

    // The counter lives no longer than its minute.
    const keys = await running.infra.redis.client.keys(`${running.infra.config.queuePrefix}:callback-rate:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await running.infra.redis.client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(keys.join('\n')).not.toContain(phone.slice(1));
  });
});

describe('per-sender limit', () => {
  it('bounds the hops one address sends, whatever numbers it claims, and leaves other addresses alone', async () => {
    const replies = [];
    for (let i = 0; i < 32; i += 1) replies.push(await hop(running.url, { sessionId: newSession(), phoneNumber: newPhone(), text: '' }, '203.0.113.9'));
    expect(replies.filter((reply) => reply.body.startsWith('CON '))).toHaveLength(30);
    expect(replies.slice(30)).toEqual(Array(2).fill({ status: 200, body: `END ${texts.t('fr', 'common.rate_limited')}` }));
    expect((await hop(running.url, { sessionId: newSession(), phoneNumber: newPhone(), text: '' }, '203.0.113.10')).body).toMatch(/^CON /);
  });
});

describe('CALLBACK_ALLOWED_IPS', () => {
  let guarded: RunningSafeline;
  beforeAll(async () => {
    const config = testConfig({ CALLBACK_ALLOWED_IPS: '198.51.100.0/24, 2001:db8::7', CALLBACK_MAX_PER_IP_PER_MINUTE: '5', USSD_CALLBACK_TOKEN: token });
    guarded = await startSafeline(config, captureLogger('warn').logger, [ussdModule, smsModule, campaignsModule]);
    await guarded.infra.mongo.opened;
  });
  afterAll(() => guarded.stop());

  it('answers 403 to an address off the list, on every callback, and reads and writes nothing', async () => {
    const sessionId = newSession();
    const refused = await hop(guarded.url, { sessionId, phoneNumber: newPhone(), text: '' }, '203.0.113.9');
    expect(refused.status).toBe(403);
    expect(await hop(guarded.url, { sessionId: newSession(), phoneNumber: newPhone(), text: '' })).toMatchObject({ status: 403 }); // 127.0.0.1 itself
    const smsToken = guarded.infra.config.sms.callbackToken;
    for (const path of ['/sms/inbound', '/sms/optout', '/sms/delivery', '/ussd/events']) {
      const res = await fetch(`${guarded.url}${path}?token=${path.startsWith('/ussd') ? token : smsToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' },
        body: new URLSearchParams({ id: 'ATXid_1', status: 'Success', from: '+22370000001', phoneNumber: '+22370000001', text: 'STOP', sessionId }).toString(),
      });
      expect([path, res.status]).toEqual([path, 403]);
    }
    expect(await guarded.infra.redis.client.keys(`${guarded.infra.config.queuePrefix}:*`)).toEqual(
      expect.not.arrayContaining([expect.stringMatching(/ussd:session|delivery-report-inbox|callback-rate/)]),
    );
  });

  it('serves the listed addresses (IPv4 block and IPv6 address) without a per-address limit', async () => {
    const replies = [];
    for (let i = 0; i < 8; i += 1) replies.push(await hop(guarded.url, { sessionId: newSession(), phoneNumber: newPhone(), text: '' }, i % 2 ? '198.51.100.23' : '2001:db8::7'));
    expect(replies.every((reply) => reply.status === 200 && reply.body.startsWith('CON '))).toBe(true);
  });
});
