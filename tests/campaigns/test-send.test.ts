import { createAuditLog } from '../../src/staff/audit-log';
import { eventually } from '../support/eventually';
import { managerOnFakeGateway } from '../support/fake-gateway-env';
import { captureLogger } from '../support/test-env';

/** A campaign's test send, from the console as from the API: audited, never to an opted-out number, rate limited. */
const bed = managerOnFakeGateway({ seed: 12, logger: captureLogger('warn').logger });
const [stopped, staffPhone] = ['+22378200001', '+22378200002'];

it('leaves out opted-out numbers and audits the console\u2019s test send as the API\u2019s, and limits both to 10 an hour', async () => {
  const { running, fake, manager } = bed;
  const created = await manager.call('POST', '/api/v1/campaigns', { name: 'tested', axis: 'prevention', texts: { fr: 'Verifiez toute offre d emploi.' } });
  const id = String(created.json._id);
  const stop = await fetch(`${running.url}/sms/inbound?token=${running.infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ from: stopped, to: '321', text: 'STOP', id: 'ts-1', date: new Date().toISOString() }) });
  expect(await stop.json()).toEqual({ action: 'stop' });

  const fromConsole = await manager.call('POST', `/console/campaigns/${id}/test`, `phones=${encodeURIComponent(`${stopped}, ${staffPhone}`)}&_csrf=${manager.csrf()}`, { 'content-type': 'application/x-www-form-urlencoded' });
  expect(fromConsole.status).toBe(303);
  const shown = await manager.call('GET', `${String(fromConsole.headers.get('location'))}&lang=en`);
  expect(shown.text).toContain('1 number(s) left out: they opted out.');
  const fromApi = await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: [stopped, staffPhone] });
  expect(fromApi.json).toEqual({ queued: 1, optedOut: 1 });

  const tests = () => Promise.resolve(fake.accepted.filter((sms) => sms.message.startsWith('[TEST]')));
  expect((await eventually(tests, (sent) => sent.length >= 2)).map((sms) => sms.number)).toEqual([staffPhone, staffPhone]);
  expect(fake.accepted.filter((sms) => sms.number === stopped && sms.message.startsWith('[TEST]'))).toEqual([]);
  const audited = await createAuditLog(running.infra.mongo.connection).list({ action: 'campaign.test_sent' });
  expect(audited).toHaveLength(2);
  for (const entry of audited) expect(entry).toMatchObject({ target: id, details: { messages: 1, numbers: 1, optedOut: 1 } });

  for (let i = 0; i < 8; i += 1) expect((await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: [staffPhone] })).status).toBe(200);
  const limited = await manager.call('POST', `/api/v1/campaigns/${id}/test`, { phones: [staffPhone] });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3_000);
  const limitedPage = await manager.call('POST', `/console/campaigns/${id}/test?lang=en`, `phones=${encodeURIComponent(staffPhone)}&_csrf=${manager.csrf()}`, { 'content-type': 'application/x-www-form-urlencoded' });
  expect(limitedPage.status).toBe(429);
  expect(limitedPage.text).toContain('Too many test sends this hour');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await tests()).length).toBe(10);
  // The window is a key with its hour to live.
  const ttl = await running.infra.redis.client.ttl(`${running.infra.config.queuePrefix}:test-send-rate:${String((await manager.call('GET', '/api/v1/me')).json.id)}`);
  expect(ttl).toBeGreaterThan(3_000);
});
