import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { csvText } from '../../src/subscribers/csv-text';
import { csvRows, type CsvRow } from '../../src/subscribers/csv-rows';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { eventually } from '../support/eventually';
import { seedSubscribers } from '../support/seed-subscribers';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

let running: RunningSafeline;
let protection: PhoneProtection;
let env: Record<string, string>;
const manager = staffClient(() => running.url);
const agent = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig();
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  env = {
    MONGODB_URI: config.mongodbUri ?? '',
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    USSD_CALLBACK_TOKEN: config.ussd.callbackToken,
    SMS_CALLBACK_TOKEN: config.sms.callbackToken,
    PHONE_HASH_KEY: config.secrets.phoneHashKey,
    PHONE_ENCRYPTION_KEYS: config.secrets.phoneEncryptionKeys.map((k) => `${k.id}:${k.key}`).join(','),
  };
  await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']], ['agent@safeline.test', ['hotline_agent']]]);
  expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
  expect((await agent.signIn('agent@safeline.test')).status).toBe(200);
});
afterAll(() => running.stop());

const CSV = [
  'phone;language;region;topics;consent_source;consent_at',
  '70 11 22 33;bm;segou;migration|law;"Formulaire papier; atelier de Segou";2026-03-01',
  '+223 70 11 22 34;fr;kayes;;Radio campaign sign-up sheet;',
  'not a phone;fr;kayes;;form;',
  '70112235;xx;kayes;;form;',
  '70112236;fr;kayes;;;',
  '70112237;fr;kayes;gold;form;',
  '0022370112238;en;bamako;children;"partner list ""ONG""";2026-02-01',
].join('\r\n');

describe('importing subscribers', () => {
  it('imports from the command line with a progress bar, keeps good rows and lists bad ones by line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'safeline-import-'));
    const file = join(dir, 'subscribers.csv');
    writeFileSync(file, CSV);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'src/cli/subscribers-import.ts', file], { env: { ...process.env, ...env }, timeout: 60_000 });
    expect(stderr).toContain('7/7 (100%)');
    expect(stdout).toContain('3 of 7 rows imported, 4 rejected');
    expect(stdout).toContain('line 4: not a valid phone number');
    expect(stdout).toContain('line 5: unknown language "xx"');
    expect(stdout).toContain('line 6: consent_source is empty');
    expect(stdout).toContain('line 7: unknown topic');
    const subscribers = createSubscriberStore(running.infra.mongo.connection);
    expect(await subscribers.find(protection.hash('+22370112233'))).toMatchObject({ language: 'bm', region: 'segou', topics: ['migration', 'law'], consent: { status: 'opted_in', source: 'import', evidence: 'import: Formulaire papier; atelier de Segou' } });
    expect((await subscribers.find(protection.hash('+22370112238')))?.consent.evidence).toBe('import: partner list "ONG"');
    expect(await subscribers.find(protection.hash('+22370112236'))).toBeUndefined();
  }, 90_000);

  it('reads a CSV saved by Excel on a French Windows (Windows-1252, ";"), and UTF-8 as UTF-8', async () => {
    expect(csvText(Buffer.from('phone;region\n70112260;Ségou\n', 'utf8'))).toBe('phone;region\n70112260;Ségou\n');
    const excel = 'phone;language;region;consent_source\r\n70 11 22 60;fr;Ségou;Fiche signée à Kati\r\n';
    const dir = mkdtempSync(join(tmpdir(), 'safeline-import-'));
    const file = join(dir, 'excel.csv');
    writeFileSync(file, Buffer.from(excel, 'latin1')); // é is 0xE9 in Windows-1252: not valid UTF-8
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'src/cli/subscribers-import.ts', file], { env: { ...process.env, ...env }, timeout: 60_000 });
    expect(stdout).toContain('1 of 1 rows imported, 0 rejected');
    expect(await createSubscriberStore(running.infra.mongo.connection).find(protection.hash('+22370112260'))).toMatchObject({ region: 'ségou', consent: { evidence: 'import: Fiche signée à Kati' } });
  }, 90_000);

  it('imports through the API as a job whose progress and report can be read', async () => {
    const res = await manager.call('POST', '/api/v1/subscribers/imports', CSV.replace(/70 11 22 33/, '70 11 22 40').replace('+223 70 11 22 34', '70112241'), { 'content-type': 'text/csv' });
    expect(res.status).toBe(202);
    const status = await eventually(async () => (await manager.call('GET', `/api/v1/subscribers/imports/${String(res.json.importId)}`)).json, (s) => s.state === 'done');
    expect(status).toMatchObject({ state: 'done', done: 7, total: 7, report: { rows: 7, imported: 3 } });
    // Each refusal has a code and its values (the console says it in the manager's language) and the English text.
    expect((status.report as { rejected: Array<{ line: number; code: string; values: Record<string, string>; reason: string }> }).rejected).toEqual([
      { line: 4, code: 'bad_phone', values: {}, reason: 'not a valid phone number' },
      { line: 5, code: 'unknown_language', values: { value: 'xx', options: 'fr, bm, en' }, reason: 'unknown language "xx" (one of fr, bm, en)' },
      { line: 6, code: 'no_consent_source', values: {}, reason: 'consent_source is empty: say where and how the person agreed' },
      { line: 7, code: 'unknown_topic', values: { options: 'recruiters, law, migration, children, help' }, reason: 'unknown topic (use recruiters, law, migration, children, help)' },
    ]);
    expect((await agent.call('POST', '/api/v1/subscribers/imports', CSV, { 'content-type': 'text/csv' })).status).toBe(403);
    expect((await manager.call('POST', '/api/v1/subscribers/imports', '', { 'content-type': 'text/csv' })).status).toBe(400);
    const summary = await manager.call('GET', '/api/v1/subscribers/summary');
    // 3 from the command line, 1 from the Excel file, and 2 here.
    expect(summary.json.bySource).toMatchObject({ import: 6 });
  });

  it('parses quoted cells, doubled quotes and either separator, piece by piece, with each row\u2019s first line', async () => {
    const all = async (pieces: string[]) => {
      const rows: CsvRow[] = [];
      for await (const row of csvRows(pieces)) rows.push(row);
      return rows;
    };
    expect((await all(['a,b\r\n"x, y","say ""hi"""\n'])).map((row) => row.cells)).toEqual([['a', 'b'], ['x, y', 'say "hi"']]);
    expect((await all(['a;b\n1;2'])).map((row) => row.line)).toEqual([1, 2]);
    expect(await all(['\uFEFFa;', 'b\n"x\ny";1\n\n ; \n', '2;"3', '"'])).toEqual([{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x\ny', '1'] }, { line: 6, cells: ['2', '3'] }]);
  });
});

describe('the preview', () => {
  it('shows each language\u2019s characters, encoding, parts, recipients and cost, and the ASCII spelling for Bambara', async () => {
    await seedSubscribers(running.infra.mongo.connection, protection, { from: 6_300_000, count: 40, language: 'bm', topics: ['help'], region: 'nara' });
    await seedSubscribers(running.infra.mongo.connection, protection, { from: 6_400_000, count: 60, language: 'fr', topics: ['help'], region: 'nara' });
    const bm = 'Baara ɲuman tɛ i ka sɛbɛnw minɛ. Ni mɔgɔ b\u2019a fɛ ka i ka sɛbɛnw ta, i kana sɔn. Wele 80 00 11 11.';
    const res = await manager.call('POST', '/api/v1/campaigns/preview', { texts: { bm, fr: 'Un vrai emploi ne garde pas vos papiers.' }, audience: { topics: ['help'], regions: ['nara'] } });
    expect(res.status).toBe(200);
    const [bmPreview, frPreview] = res.json.languages as Array<Record<string, unknown> & { ascii?: Record<string, unknown> }>;
    expect(bmPreview).toMatchObject({ language: 'bm', encoding: 'UCS-2', parts: 2, recipients: 40, cost: 2 * 20 * 40 });
    expect(bmPreview?.nonGsmCharacters).toEqual(expect.arrayContaining(['ɲ', 'ɛ', 'ɔ']));
    expect(bmPreview?.ascii).toMatchObject({ encoding: 'GSM-7', parts: 1, cost: 20 * 40 });
    expect(String(bmPreview?.ascii?.text)).toContain('nyuman');
    expect(frPreview).toMatchObject({ language: 'fr', encoding: 'GSM-7', parts: 1, recipients: 60, cost: 1_200 });
    expect(frPreview?.ascii).toBeUndefined();
    expect(res.json).toMatchObject({ recipients: 100, cost: 1_600 + 1_200 });
    expect((await manager.call('POST', '/api/v1/campaigns/preview', { texts: { zz: 'x' } })).status).toBe(400);
  });

  it('writes a campaign from a template in templates/<lang>/campaigns.json, its variables filled', async () => {
    const list = await manager.call('GET', '/api/v1/campaigns/templates');
    const law = (list.json.templates as Array<{ key: string; variables: string[]; languages: Record<string, string> }>).find((t) => t.key === 'law');
    expect(law?.variables).toEqual(['ussd_code']);
    expect(Object.keys(law?.languages ?? {}).sort()).toEqual(['bm', 'en', 'fr']);
    expect((await manager.call('POST', '/api/v1/campaigns', { name: 'from a template', axis: 'prosecution', template: { key: 'law' } })).status).toBe(400);
    const created = await manager.call('POST', '/api/v1/campaigns', { name: 'from a template', axis: 'prosecution', template: { key: 'law', variables: { ussd_code: '*321#' } } });
    expect(created.status).toBe(200);
    expect((created.json.texts as Record<string, string>).fr).toContain('loi 2012-023');
    expect((created.json.texts as Record<string, string>).fr).toContain('*321#');
    expect((await manager.call('POST', '/api/v1/campaigns/preview', { template: { key: 'nope' } })).status).toBe(400);
  });

  it('refuses a campaign that does not fit, with the field named', async () => {
    const bad = async (body: Record<string, unknown>) => (await manager.call('POST', '/api/v1/campaigns', { name: 'x', axis: 'prevention', texts: { fr: 'Bonjour' }, ...body })).status;
    expect(await bad({ axis: 'marketing' })).toBe(400);
    // A draft may have no text yet; scheduling it is refused (409 below is for other states, 400 here).
    expect(await bad({ texts: {} })).toBe(200);
    expect(await bad({ schedule: { kind: 'recurring', cron: 'every monday' } })).toBe(400);
    expect(await bad({ sendWindow: { from: '25:00', to: '08:00' } })).toBe(400);
    expect(await bad({ senderId: 'THIS-IS-TOO-LONG' })).toBe(400);
    expect(await bad({ budgetCap: -5 })).toBe(400);
    expect((await agent.call('POST', '/api/v1/campaigns', { name: 'x', axis: 'prevention', texts: { fr: 'Bonjour' } })).status).toBe(403);
    expect((await manager.call('POST', '/api/v1/campaigns/not-an-id/schedule')).status).toBe(400);
    expect((await manager.call('POST', '/api/v1/campaigns/6f1c3e0a-0000-4000-8000-000000000000/schedule')).status).toBe(404);
  });
});
