import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../src/dev-services/free-port';
import { createMessageStore } from '../../src/campaigns/message-store';
import { createKannelGateway } from '../../src/gateway/kannel-gateway';
import type { RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { smsGatewayOf } from '../../src/gateway/create-gateway';
import { GatewayError, type SmsGateway } from '../../src/gateway/sms-gateway';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { eventually } from '../support/eventually';
import { startWithManager } from '../support/fake-gateway-env';
import { startKannel, type RunningKannel } from '../../src/dev-services/kannel';
import { seedSubscribers } from '../support/seed-subscribers';
import { startSmscSimulator, type SmscSimulator } from '../../src/dev-services/smpp-simulator';
import { staffClient } from '../support/staff-client';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/**
 * SMS_GATEWAY=kannel end to end: safeline -> smsbox -> bearerbox -> SMPP -> an operator's SMSC (the simulator),
 * and back: receipts through Kannel's dlr-url, MO SMS through its get-url. Kannel is started once for the file.
 */
const { logger, lines } = captureLogger('info');
let orange: SmscSimulator;
let kannel: RunningKannel;
let running: RunningSafeline;
let protection: PhoneProtection;
let gateway: SmsGateway;
let token: string;
const manager = staffClient(() => running.url);
let campaignId = '';
const ALWAYS = { from: '00:00', to: '00:00' };

beforeAll(async () => {
  orange = await startSmscSimulator({ name: 'orange', receiptDelayMs: 20 });
  const port = await freePort();
  token = randomBytes(16).toString('hex');
  const moUrl = `http://127.0.0.1:${port}/sms/kannel/inbound?token=${token}&from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I`;
  kannel = await startKannel({ smscs: [orange], moUrl, dir: join(testServices().scratch, `kannel-${process.pid}-${Date.now()}`) });
  const config = testConfig({
    SMS_GATEWAY: 'kannel',
    KANNEL_SENDSMS_URL: kannel.sendsmsUrl,
    KANNEL_USERNAME: kannel.username,
    KANNEL_PASSWORD: kannel.password,
    KANNEL_SMSC: 'orange',
    KANNEL_ADMIN_URL: kannel.adminUrl,
    KANNEL_ADMIN_PASSWORD: kannel.adminPassword,
    SMS_CALLBACK_TOKEN: token,
    SMS_SENDER_ID: '321',
    SMS_MAX_PER_SECOND: '100000',
    PORT: String(port),
    LOG_LEVEL: 'info',
  });
  running = await startWithManager(config, logger);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  protection = createPhoneProtection(config.secrets);
  gateway = smsGatewayOf(running.infra);
}, 60_000);
afterAll(async () => {
  await running?.stop();
  await kannel?.stop();
  await orange?.close();
});

const arrived = (to: string) =>
  eventually(() => Promise.resolve(orange.received.filter((sms) => sms.to === to.replace(/^\+/, ''))), (list) => list.length > 0);
const readyz = async () => {
  const res = await fetch(`${running.url}/readyz`, { headers: { authorization: `Bearer ${running.infra.config.metricsToken ?? ''}` } });
  return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
};

describe('sends through Kannel to the operator SMSC', () => {
  it('a GSM-7 text: one part, data_coding 0, our message id, the cost per part', async () => {
    const text = 'Un emploi trop beau à l étranger ? Appelez le 80 00 11 11.';
    const [result] = await gateway.send({ to: ['+22370100001'], text });
    expect(result).toMatchObject({
      to: '+22370100001', outcome: 'accepted', statusCode: 202, status: '0: Accepted for delivery', parts: 1, cost: 'XOF 20',
    });
    expect(result?.messageId).toMatch(/^kannel-[\w-]{16}$/);
    const [sms] = await arrived('+22370100001');
    expect(sms).toMatchObject({ smsc: 'orange', from: '321', text, dataCoding: 0, parts: 1, registeredDelivery: 17 });
  });

  it('a Bambara text in UCS-2 (data_coding 8), every letter intact', async () => {
    const text = 'Aw ni ce! Baara ɲuman tɛ sɔrɔ ni i ka sɛbɛnw mara.';
    const [result] = await gateway.send({ to: ['+22370100002'], text });
    expect(result).toMatchObject({ outcome: 'accepted', parts: 1 });
    const [sms] = await arrived('+22370100002');
    expect(sms).toMatchObject({ text, dataCoding: 8, parts: 1 });
  });

  it('a 300-character text as two concatenated parts (UDH, esm_class 0x43), joined back exactly', async () => {
    const text = `${'Ne partez pas sans contrat ecrit. '.repeat(8)}Appelez le 80 00 11 11 pour verifier une offre.`.slice(0, 300);
    expect(text).toHaveLength(300);
    const [result] = await gateway.send({ to: ['+22370100003'], text });
    expect(result).toMatchObject({ outcome: 'accepted', parts: 2, cost: 'XOF 40' });
    const [sms] = await arrived('+22370100003');
    expect(sms).toMatchObject({ text, parts: 2, esmClass: 0x43, dataCoding: 0 });
  });

  it('several recipients: one request each, each its own message id', async () => {
    const to = ['+22370100004', '+22370100005', '+22370100006'];
    const results = await gateway.send({ to, text: 'Trois numeros, trois messages.' });
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(new Set(results.map((r) => r.messageId)).size).toBe(3);
    for (const number of to) expect(await arrived(number)).toHaveLength(1);
  });
});

it('counts a campaign of 50 numbers delivered and failed from the SMSC receipts, as AT reports are counted', async () => {
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 200_000, count: 50, topics: ['migration'], region: 'kayes' });
  orange.setFailureShare(0.1);
  const text = 'Avant de partir travailler loin, verifiez l offre au 80 00 11 11.';
  const created = await manager.call('POST', '/api/v1/campaigns', {
    axis: 'prevention', sendWindow: ALWAYS, name: 'kannel fifty', texts: { fr: text }, audience: { regions: ['kayes'] },
  });
  expect(created.status).toBe(200);
  const id = String(created.json._id);
  campaignId = id;
  expect((await manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  type Progress = { recipients: number; sent: number; delivered: number; failedDelivery: number; failed: number };
  const view = async () => (await manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as { status: string; progress: Progress };
  const done = await eventually(view, (v) => v.status === 'completed' && v.progress.delivered + v.progress.failedDelivery === 50, 20_000);
  orange.setFailureShare(0);

  const sent = orange.received.filter((sms) => sms.text === text);
  expect(new Set(sent.map((sms) => sms.to)).size).toBe(50);
  const stats = sent.map((sms) => orange.receipts.get(sms.messageIds[0] ?? ''));
  const undelivered = stats.filter((stat) => stat === 'UNDELIV').length;
  expect(undelivered).toBeGreaterThan(0);
  expect(done.progress).toMatchObject({ recipients: 50, sent: 50, delivered: 50 - undelivered, failedDelivery: undelivered, failed: 0 });
}, 40_000);

describe('MO SMS over SMPP reach the keyword handling', () => {
  it('opts out a number that sends "A dabila" in UCS-2, and answers it in Bambara through Kannel', async () => {
    const [phone = ''] = await seedSubscribers(running.infra.mongo.connection, protection, { from: 300_000, count: 1, language: 'bm' });
    const subscribers = createSubscriberStore(running.infra.mongo.connection);
    await orange.sendMo({ from: phone.replace(/^\+/, ''), to: '321', text: 'A dabila, i ni cɛ', coding: 8 });
    const after = await eventually(() => subscribers.find(protection.hash(phone)), (s) => s?.consent.status === 'opted_out');
    expect(after?.consent).toMatchObject({ status: 'opted_out', source: 'sms' });
    const [reply] = await arrived(phone);
    expect(reply).toMatchObject({ text: 'Cikan tɛ ci i ma tugun. Ci AWO ka segin.', dataCoding: 8 });
  });

  it('asks the hotline for a callback on "Aide" (é-free GSM-7) and confirms it by SMS', async () => {
    const phone = '+22370300101';
    await orange.sendMo({ from: phone.slice(1), to: '321', text: 'Aide svp' });
    const [reply] = await arrived(phone);
    expect(reply?.text).toMatch(/^Merci\. Demande \S+ bien reçue\./);
  });

  it('refuses a get-url call without the token (403) or with a number that is none (400)', async () => {
    const base = `${running.url}/sms/kannel/inbound`;
    expect((await fetch(`${base}?from=%2B22370300102&to=321&text=STOP&id=x1`)).status).toBe(403);
    const bad = await fetch(`${base}?token=${token}&from=abc&to=321&text=STOP&id=x2&charset=UTF-8`);
    expect(bad.status).toBe(400);
    const empty = await fetch(`${base}?token=${token}&from=%2B22370300103&to=321&text=bonjour&id=x3&charset=UTF-8`);
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
  });
});

describe('Kannel refusals map to the send outcomes', () => {
  const other = (overrides: { password?: string; smsc?: string; sendsmsUrl?: string }) =>
    createKannelGateway({
      sendsmsUrl: overrides.sendsmsUrl ?? kannel.sendsmsUrl,
      username: kannel.username,
      password: overrides.password ?? kannel.password,
      smsc: overrides.smsc ?? 'orange',
      timeoutMs: 2_000,
      pricePerPart: 20,
      defaultFrom: '321',
      reportUrl: () => `${running.url}/sms/kannel/delivery?token=${token}`,
    });

  it('a wrong sendsms password is an auth error (the campaign pauses on it)', async () => {
    const err = await other({ password: 'wrong-password' }).send({ to: ['+22370400001'], text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as Error).message).not.toContain('wrong-password');
  });

  it('an smsc id no SMSC takes is permanent for that recipient (403 Not routable)', async () => {
    const [result] = await other({ smsc: 'telecel' }).send({ to: ['+22370400002'], text: 'x' });
    expect(result).toMatchObject({ outcome: 'permanent', statusCode: 403, status: 'Not routable. Do not try again.' });
    expect(result?.messageId).toBeUndefined();
  });

  it('refuses malformed receipts (400) and receipts without the token (403); a repeated final receipt changes no count', async () => {
    const view = async () =>
      (await manager.call('GET', `/api/v1/campaigns/${campaignId}`)).json as { progress: unknown; runs: Array<{ run: string }> };
    const before = await view();
    const [result] = await createMessageStore(running.infra.mongo.connection).resultsOfRun(before.runs[0]?.run ?? '');
    const ours = result?._id ?? '';
    expect(ours).toMatch(/^kannel-/);
    const base = `${running.url}/sms/kannel/delivery`;
    expect((await fetch(`${base}?id=${ours}&type=2`)).status).toBe(403);
    expect((await fetch(`${base}?token=wrong&id=${ours}&type=2`)).status).toBe(403);
    for (const query of ['id=&type=1', `id=${ours}&type=3`, `id=${ours}`, `id=${ours}&type=two`, 'id=a%20b&type=1']) {
      const res = await fetch(`${base}?token=${token}&${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
    // Kannel's own "no SMSC" refusal (already answered 403 at send) is acknowledged and not kept.
    const own = await fetch(`${base}?token=${token}&id=${ours}&type=16&status=NACK%2Fno+SMSC`);
    expect(((await own.json()) as { ignored?: string }).ignored).toContain('no SMSC');
    // A second final report for a message already counted changes nothing either.
    expect((await fetch(`${base}?token=${token}&id=${ours}&type=2&status=stat%3AUNDELIV+err%3A001`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await view()).progress).toEqual(before.progress);
  });
});

it('names the SMSC bind that goes offline on /readyz, and is ready again once it re-binds', async () => {
  expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', checks: { kannel: 'up' } } });
  const binds = orange.binds();
  orange.dropBinds({ refuse: true });
  const down = await eventually(readyz, (r) => r.status === 503, 10_000);
  expect(down.body.checks?.kannel).toMatch(/^down: SMSC orange is (re-connecting|connecting|dead|disconnected)/);
  orange.acceptBinds();
  await orange.waitForBind(10_000, binds);
  expect((await eventually(readyz, (r) => r.status === 200, 10_000)).body.status).toBe('ready');
  // Over the new bind: the message and its receipt (sent on the newest session) both go through.
  const [result] = await gateway.send({ to: ['+22370600001'], text: 'apres la reconnexion' });
  expect(result?.outcome).toBe('accepted');
  const [sms] = await arrived('+22370600001');
  await eventually(() => Promise.resolve(orange.receipts.get(sms?.messageIds[0] ?? '')), (stat) => stat === 'DELIVRD');
}, 30_000);

it('answers transient while bearerbox is stopped, and /readyz says Kannel is down', async () => {
  await kannel.stopBearerbox();
  const err = await gateway.send({ to: ['+22370500001', '+22370500002'], text: 'pendant la panne' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  expect(err).toMatchObject({ kind: 'transient' });
  const down = await eventually(readyz, (r) => r.status === 503, 10_000);
  expect(down.body.checks?.kannel).toMatch(/^down: Kannel admin port unreachable/);
}, 20_000);

it('leaves no phone number and no message text in safeline\'s log or in Kannel\'s logs', () => {
  const all = `${lines().join('\n')}\n${kannel.logs()}`;
  expect(all).not.toMatch(/2237\d{7}/);
  expect(all).not.toContain('Avant de partir');
  expect(all).not.toContain('dabila');
  expect(all).not.toContain(kannel.password);
});
