import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createAuditLog } from '../../src/staff/audit-log';
import { staffModule } from '../../src/staff/staff-module';
import { createStaffStore, type StaffStore } from '../../src/staff/staff-store';
import { PASSWORD, createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

let running: RunningSafeline;
let users: StaffStore;

beforeAll(async () => {
  running = await startSafeline(testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES_PER_IP: '200' }), captureLogger('warn').logger, [staffModule]);
  await running.infra.mongo.opened;
  users = createStaffStore(running.infra.mongo.connection);
  await createStaff(users, [
    ['admin@safeline.test', ['admin']],
    ['agent@safeline.test', ['hotline_agent']],
    ['partner@safeline.test', ['partner_viewer']],
    ['disabled-later@safeline.test', ['hotline_agent']],
    ['parallel@safeline.test', ['hotline_agent']],
  ]);
});
afterAll(() => running.stop());

const client = () => staffClient(() => running.url);

describe('staff sign-in', () => {
  it('signs in with an httpOnly, sameSite session cookie that is new at every login', async () => {
    const browser = client();
    await browser.call('GET', '/console/login');
    browser.jar.set('sl_sid', 'planted-by-an-attacker-planted-by-an-attack');
    const res = await browser.signIn('Admin@Safeline.test');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ email: 'admin@safeline.test', roles: ['admin'] });
    expect(res.headers.getSetCookie().find((c) => c.startsWith('sl_sid='))).toMatch(/HttpOnly/i);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('sl_sid='))).toMatch(/SameSite=Strict/i);
    const first = browser.jar.get('sl_sid');
    expect(first).not.toBe('planted-by-an-attacker-planted-by-an-attack');
    expect((await browser.call('GET', '/api/v1/me')).json).toMatchObject({ email: 'admin@safeline.test' });
    await browser.call('POST', '/api/v1/auth/logout', {});
    await browser.signIn('admin@safeline.test');
    expect(browser.jar.get('sl_sid')).not.toBe(first);
  });

  it('marks the session cookie Secure behind a trusted HTTPS proxy', async () => {
    const browser = client();
    await browser.call('GET', '/console/login');
    browser.setCsrf(browser.jar.get('sl_csrf') ?? '');
    const res = await browser.call('POST', '/api/v1/auth/login', { email: 'admin@safeline.test', password: PASSWORD }, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('sl_sid='))).toMatch(/;\s*Secure/i);
  });

  it('gives one generic answer for a wrong password and for an unknown account', async () => {
    const wrong = await client().signIn('agent@safeline.test', 'not the password');
    const unknown = await client().signIn('nobody@safeline.test', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
    expect(wrong.json).toEqual({ error: { code: 'invalid_credentials', message: 'Wrong email or password' } });
  });

  it('throttles rapid failures on one account with a clear message', async () => {
    const browser = client();
    const statuses: number[] = [];
    for (let i = 0; i < 100 && !statuses.includes(429); i += 1) statuses.push((await browser.signIn('partner@safeline.test', `guess ${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const throttled = await browser.signIn('partner@safeline.test', PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.json.error?.message).toMatch(/^Too many failed sign-ins\. Try again in \d+ minute\(s\)\.$/);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('counts guesses sent in parallel before checking them: no more than the limit get through', async () => {
    const browser = client();
    await browser.call('GET', '/console/login');
    browser.setCsrf(browser.jar.get('sl_csrf') ?? '');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => browser.call('POST', '/api/v1/auth/login', { email: 'parallel@safeline.test', password: `guess ${i}` })));
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(35);
  });

  it('keeps a password typed into the email field out of the audit log', async () => {
    const browser = client();
    await browser.call('GET', '/console/login');
    await browser.call('POST', '/console/login', `_csrf=${browser.jar.get('sl_csrf') ?? ''}&email=correct+horse+battery&password=x`, { 'content-type': 'application/x-www-form-urlencoded' });
    const entries = await createAuditLog(running.infra.mongo.connection).list({ action: 'login.failed', limit: 1_000 });
    expect(JSON.stringify(entries)).not.toContain('correct horse');
    expect(entries.some((entry) => entry.details?.email === '[not an email address]')).toBe(true);
  });

  it('refuses a state-changing request without the CSRF token (403)', async () => {
    const browser = client();
    await browser.signIn('agent@safeline.test');
    browser.setCsrf('');
    expect((await browser.call('POST', '/api/v1/auth/logout', {})).status).toBe(403);
    const anonymous = await fetch(`${running.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'agent@safeline.test', password: PASSWORD }) });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toEqual({ error: { code: 'csrf', message: 'Missing or wrong CSRF token' } });
  });

  it('answers an operator in a body with 400, never a query', async () => {
    const browser = client();
    await browser.call('GET', '/console/login');
    browser.setCsrf(browser.jar.get('sl_csrf') ?? '');
    const res = await browser.call('POST', '/api/v1/auth/login', { email: { $ne: null }, password: { $gt: '' } });
    expect(res.status).toBe(400);
    expect(res.json.error?.code).toBe('bad_request');
    const garbage = await browser.call('POST', '/api/v1/auth/login', '{"email":');
    expect(garbage.status).toBe(400);
  });

  it('ends a disabled user\'s live session at the next request', async () => {
    const browser = client();
    const signedIn = await browser.signIn('disabled-later@safeline.test');
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(200);
    await users.setDisabled(String(signedIn.json.id), true);
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(401);
  });

  it('changes a password, and signs out', async () => {
    const browser = client();
    await browser.signIn('agent@safeline.test');
    const elsewhere = client();
    await elsewhere.signIn('agent@safeline.test');
    expect((await browser.call('POST', '/api/v1/auth/password', { current: 'wrong', next: 'a much longer new password' })).status).toBe(400);
    expect((await browser.call('POST', '/api/v1/auth/password', { current: PASSWORD, next: 'short' })).status).toBe(400);
    expect((await browser.call('POST', '/api/v1/auth/password', { current: PASSWORD, next: 'a much longer new password' })).status).toBe(200);
    // The other session (say, a stolen one) ended with the change; this one goes on.
    expect((await elsewhere.call('GET', '/api/v1/me')).status).toBe(401);
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(200);
    expect((await browser.call('POST', '/api/v1/auth/logout', {})).status).toBe(200);
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(401);
    expect((await client().signIn('agent@safeline.test', 'a much longer new password')).status).toBe(200);
  });
});

describe('roles and the audit log', () => {
  it('lets an admin read and filter the audit log, and refuses others with 403', async () => {
    const admin = client();
    await admin.signIn('admin@safeline.test');
    const all = await admin.call('GET', '/api/v1/audit');
    expect(all.status).toBe(200);
    const actions = (all.json.entries as Array<{ action: string }>).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'login.failed', 'login.throttled', 'logout', 'password.changed']));
    const failed = await admin.call('GET', '/api/v1/audit?action=login.failed&limit=3');
    expect((failed.json.entries as Array<{ action: string; details: { email: string } }>).every((entry) => entry.action === 'login.failed' && /^(.\*\*\*@.+|\[not an email address\])$/.test(entry.details.email))).toBe(true);
    expect((await admin.call('GET', '/api/v1/audit?limit=abc')).status).toBe(400);

    // Reading the log is itself recorded.
    const reads = await createAuditLog(running.infra.mongo.connection).list({ action: 'audit.read' });
    expect(reads.length).toBeGreaterThan(0);
    const agentOnly = client();
    await agentOnly.signIn('agent@safeline.test', 'a much longer new password');
    expect((await agentOnly.call('GET', '/api/v1/audit')).status).toBe(403);
    expect((await client().call('GET', '/api/v1/audit')).status).toBe(401);
  });
});

describe('staff administration', () => {
  it('lets an admin change roles and disable an account, audited; ids are checked', async () => {
    const admin = client();
    await admin.signIn('admin@safeline.test');
    const list = await admin.call('GET', '/api/v1/staff');
    const partner = (list.json.users as Array<{ _id: string; email: string; passwordHash?: string }>).find((user) => user.email === 'partner@safeline.test');
    expect(partner?.passwordHash).toBeUndefined();
    expect((await admin.call('POST', `/api/v1/staff/${partner?._id}/roles`, { roles: ['partner_viewer', 'campaign_manager'] })).status).toBe(200);
    expect((await users.profile(partner?._id ?? ''))?.roles).toEqual(['partner_viewer', 'campaign_manager']);
    expect((await admin.call('POST', '/api/v1/staff/not-an-id/roles', { roles: ['admin'] })).status).toBe(400);
    expect((await admin.call('POST', '/api/v1/staff/00000000-0000-4000-8000-000000000000/disabled', { disabled: true })).status).toBe(404);
    expect((await admin.call('POST', `/api/v1/staff/${partner?._id}/roles`, { roles: ['root'] })).status).toBe(400);
    const audit = await createAuditLog(running.infra.mongo.connection).list({ action: 'staff.roles_changed' });
    expect(audit[0]).toMatchObject({ target: partner?._id, details: { from: 'partner_viewer', to: 'partner_viewer,campaign_manager' } });
  });
});

describe('the API document and security headers', () => {
  it('serves OpenAPI at /api/docs from the schemas that validate requests', async () => {
    const res = await fetch(`${running.url}/api/docs`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> }; 'x-roles': unknown }>> };
    expect(doc.openapi).toBe('3.1.0');
    const loginBody = doc.paths['/api/v1/auth/login']?.post?.requestBody?.content['application/json']?.schema;
    expect(loginBody?.required).toEqual(['email', 'password']);
    expect(doc.paths['/api/v1/audit']?.get?.['x-roles']).toEqual(['admin']);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});
