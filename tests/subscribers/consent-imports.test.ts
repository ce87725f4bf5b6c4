import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createAuditLog } from '../../src/staff/audit-log';
import { createStaffStore } from '../../src/staff/staff-store';
import { createSubscriberStore, type SubscriberStore } from '../../src/subscribers/subscriber-store';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

/** Nothing but the person undoes the person's own opt-out; every import is audited. */
let running: RunningSafeline;
let protection: PhoneProtection;
let subscribers: SubscriberStore;
let managerId: string;
let env: Record<string, string>;
const manager = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig({ SMS_EMULATOR_REPORT_DELAY_MS: '60000' });
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  subscribers = createSubscriberStore(running.infra.mongo.connection);
  managerId = (await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]])).get('manager@safeline.test') ?? '';
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  env = {
    MONGODB_URI: config.mongodbUri ?? '',
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    USSD_CALLBACK_TOKEN: config.ussd.callbackToken,
    SMS_CALLBACK_TOKEN: config.sms.callbackToken,
    PHONE_HASH_KEY: config.secrets.phoneHashKey,
    PHONE_ENCRYPTION_KEYS: config.secrets.phoneEncryptionKeys.map((k) => `${k.id}:${k.key}`).join(','),
  };
});
afterAll(() => running.stop());

const sms = (path: string, fields: Record<string, string>) =>
  fetch(`${running.url}${path}?token=${running.infra.config.sms.callbackToken}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
let smsId = 0;
const inbound = async (from: string, text: string) => (await (await sms('/sms/inbound', { from, to: '321', text, id: `c-${(smsId += 1)}`, date: new Date().toISOString() })).json()) as { action: string };
const statusOf = async (phone: string) => (await subscribers.find(protection.hash(phone)))?.consent;
const inSet = async (phone: string) => running.infra.redis.client.sismember(`${running.infra.config.queuePrefix}:optouts`, protection.hash(phone));
type Status = { state: string; report: { rows: number; imported: number; optedOutByPerson: number; rejected: unknown[] } | null };
async function apiImport(csv: string, filename: string): Promise<{ id: string; status: Status }> {
  const res = await manager.call('POST', `/api/v1/subscribers/imports?filename=${encodeURIComponent(filename)}`, csv, { 'content-type': 'text/csv' });
  expect(res.status).toBe(202);
  const id = String(res.json.importId);
  const status = await eventually(async () => (await manager.call('GET', `/api/v1/subscribers/imports/${id}`)).json as unknown as Status, (s) => s.state === 'done' || s.state === 'failed');
  return { id, status };
}
const audits = () => createAuditLog(running.infra.mongo.connection).list({ action: 'subscribers.imported' });

describe('an import and a person\u2019s own opt-out', () => {
  const [bySms, byBambara, byGateway, byUssd, fresh] = ['+22377100001', '+22377100002', '+22377100003', '+22377100004', '+22377100005'];

  it('never re-subscribes a number that opted out by STOP (any language), USSD or the gateway\u2019s opt-out, and counts those rows', async () => {
    expect(await inbound(bySms, 'ARRET')).toEqual({ action: 'stop' });
    expect(await inbound(byBambara, 'a dabila')).toEqual({ action: 'stop' });
    expect((await sms('/sms/optout', { senderId: 'SAFELINE', phoneNumber: byGateway })).status).toBe(200);
    const phone = caller(running.url, running.infra.config.ussd.callbackToken, byUssd, 'consent-ussd-1');
    await phone.dial();
    await phone.type('1'); // Français
    await phone.type('4'); // SMS alerts
    await phone.type('2'); // unsubscribe
    expect((await phone.type('6')).body).toMatch(/^END/); // from everything
    expect(await eventually(() => statusOf(byUssd), (c) => c?.status === 'opted_out')).toMatchObject({ status: 'opted_out', source: 'ussd' });

    // The rows carry no consent_at: today's date, later than each STOP.
    const csv = ['phone,language,consent_source', ...[bySms, byBambara, byGateway, byUssd, fresh].map((p) => `${p},fr,partner list`)].join('\n');
    const { id, status } = await apiImport(csv, 'partner list.csv');
    expect(status.report).toMatchObject({ rows: 5, imported: 1, optedOutByPerson: 4, rejected: [] });
    for (const p of [bySms, byBambara, byGateway, byUssd]) {
      expect((await statusOf(p))?.status).toBe('opted_out');
      expect(await inSet(p)).toBe(1);
    }
    expect(await statusOf(fresh)).toMatchObject({ status: 'opted_in', source: 'import' });
    // The console's import page says it.
    expect((await manager.call('GET', `/console/subscribers/import/${id}/progress?lang=en`)).text).toContain('4 opted out by the person: not re-subscribed');
    expect((await manager.call('GET', `/console/subscribers/import/${id}/progress?lang=fr`)).text).toContain('4 désinscrits par la personne elle-même');
  });

  it('lets the person opt back in by their own action, and only then does an import apply', async () => {
    expect(await inbound(bySms, 'OUI')).toEqual({ action: 'join' });
    expect(await statusOf(bySms)).toMatchObject({ status: 'opted_in', source: 'sms' });
    expect(await inSet(bySms)).toBe(0);
    const { status } = await apiImport(`phone,language,consent_source,region\n${bySms},fr,partner list,kayes\n`, 'again.csv');
    expect(status.report).toMatchObject({ imported: 1, optedOutByPerson: 0 });
    expect(await subscribers.find(protection.hash(bySms))).toMatchObject({ region: 'kayes', consent: { status: 'opted_in' } });
  });
});

describe('the audit of imports', () => {
  it('audits every import, from the API, the console and the command line: who, file name, rows imported, skipped, rejected', async () => {
    await inbound('+22377100010', 'STOP');
    const csv = 'phone,language,consent_source\n+22377100010,fr,form\n+22377100011,fr,form\nnot a phone,fr,form\n';
    const { id } = await apiImport(csv, 'C:\\Users\\awa\\liste 77100012.csv');
    const fromApi = (await audits()).find((entry) => entry.target === id);
    expect(fromApi?.ip).toBeTruthy();
    expect(fromApi).toMatchObject({ actor: managerId, details: { file: 'liste 771***12.csv', state: 'done', rows: 3, imported: 1, skipped: 1, rejected: 1 } });

    // The console's form, as a browser posts it (multipart, the file's own name).
    const form = new FormData();
    form.append('file', new Blob([csv.replace(/771000(\d\d)/g, '771001$1')], { type: 'text/csv' }), 'inscrits-kati.csv');
    const cookie = [...manager.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const posted = await fetch(`${running.url}/console/subscribers/import?_csrf=${encodeURIComponent(manager.csrf())}`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
    expect(posted.status).toBe(303);
    const consoleId = String(posted.headers.get('location')).split('/').pop();
    const fromConsole = await eventually(async () => (await audits()).find((entry) => entry.target === consoleId), (entry) => entry !== undefined);
    expect(fromConsole).toMatchObject({ actor: managerId, details: { file: 'inscrits-kati.csv', state: 'done', rows: 3, imported: 2, skipped: 0, rejected: 1 } });

    const dir = mkdtempSync(join(tmpdir(), 'safeline-import-'));
    writeFileSync(join(dir, 'terrain.csv'), csv);
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'src/cli/subscribers-import.ts', join(dir, 'terrain.csv')], { env: { ...process.env, ...env }, timeout: 60_000 });
    expect(stdout).toContain('1 of 3 rows imported, 1 rejected');
    expect(stdout).toContain('1 opted out by the person: not re-subscribed');
    expect((await audits()).find((entry) => entry.details?.file === 'terrain.csv')).toMatchObject({ details: { rows: 3, imported: 1, skipped: 1, rejected: 1 } });
    expect((await audits()).find((entry) => entry.details?.file === 'terrain.csv')?.actor).toMatch(/^cli:/);
  }, 90_000);
});
