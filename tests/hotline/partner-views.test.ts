import { randomInt } from 'node:crypto';
import type { Router } from 'express';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { referenceCodesOf } from '../../src/hotline/reference-codes-of';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline, type SafelineModule } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import type { AccessGuard } from '../../src/staff/access';
import { createStaffStore } from '../../src/staff/staff-store';
import { createStaff, staffClient, type StaffReply } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: Array<{ handle: unknown }> };
  handle: { stack?: Layer[] };
}
interface Route {
  path: string;
  methods: string[];
  access?: AccessGuard['access'];
}

/** Every route of the routers the app was built from, with its access declaration. */
function routesOf(router: { stack: Layer[] }): Route[] {
  return router.stack.flatMap((layer): Route[] => {
    if (!layer.route) return layer.handle.stack ? routesOf(layer.handle as { stack: Layer[] }) : [];
    const guard = layer.route.stack.map((inner) => inner.handle).find((handle): handle is AccessGuard => typeof handle === 'function' && 'access' in handle);
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    return paths.map((path) => ({ path, methods: Object.keys(layer.route?.methods ?? {}), access: guard?.access }));
  });
}
const partnerMay = (route: Route): boolean => !!route.access && ('public' in route.access || route.access.roles.includes('partner_viewer'));

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const newReference = (): string => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const TIME = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
const small = (count: number): boolean => count >= 1 && count <= 4;

const built: Router[] = [];
// The real modules; only their routers are kept aside to be walked.
const watched: SafelineModule[] = modules.map((module) =>
  module.routers ? { ...module, routers: (infra) => (module.routers?.(infra) ?? []).map((router) => (built.push(router), router)) } : module,
);
let running: RunningSafeline;
const refs: string[] = [];
const partner = staffClient(() => running.url);
const admin = staffClient(() => running.url);
const agent = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig();
  running = await startSafeline(config, captureLogger('warn').logger, watched);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['partner@safeline.test', ['partner_viewer']],
    ['admin@safeline.test', ['admin']],
    ['agent@safeline.test', ['hotline_agent']],
  ]);
  for (const [client, email] of [[partner, 'partner'], [admin, 'admin'], [agent, 'agent']] as const) expect((await client.signIn(`${email}@safeline.test`)).status).toBe(200);

  // Ten requests through the intake use case: 7 from Kayes (fr, normal), 2 from Segou (bm, urgent), 1 from Mopti (fr, a child in danger).
  const protection = createPhoneProtection(config.secrets);
  const intake = createHotlineIntake(running.infra, referenceCodesOf(running.infra));
  const kinds = [...Array<string[]>(7).fill(['kayes', 'fr', 'normal']), ...Array<string[]>(2).fill(['segou', 'bm', 'urgent']), ['mopti', 'fr', 'child_in_danger']];
  for (const [index, [region = '', language = '', urgency = '']] of kinds.entries()) {
    const phone = `+2237030${String(index).padStart(4, '0')}`;
    const reference = newReference();
    refs.push(reference);
    const input = { reference, eventKey: `seed:${reference}`, phoneHash: protection.hash(phone), phoneSealed: protection.encrypt(phone), language, window: 'morning', topic: 'other', urgency, region, confirmBySms: false, channel: 'ussd' as const };
    await intake.recordCallbackRequest(input, new Date());
  }
  // One is worked and closed: an attempt, an outcome.
  const closed = `/api/v1/hotline/requests/${refs[0] ?? ''}`;
  expect((await agent.call('POST', `${closed}/claim`)).status).toBe(200);
  expect((await agent.call('POST', `${closed}/attempts`, { outcome: 'reached', note: '' })).status).toBe(200);
  expect((await agent.call('POST', `${closed}/close`, { outcome: 'referred_police', note: '' })).status).toBe(200);
});
afterAll(() => running.stop());

/** Counts a reply shows: JSON totals and breakdowns, HTML table cells and chart labels, CSV count cells. */
function countsIn(reply: StaffReply): number[] {
  const type = reply.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    const found: number[] = [];
    const walk = (value: unknown, counted: boolean): void => {
      if (typeof value === 'number' && counted) found.push(value);
      else if (Array.isArray(value)) value.forEach((item) => walk(item, counted));
      else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(inner, counted || key === 'total' || key === 'count' || /^by[A-Z]/.test(key));
    };
    walk(reply.json, false);
    return found;
  }
  if (type.includes('csv')) return reply.text.trim().split('\r\n').slice(1).map((line) => Number((JSON.parse(`[${line}]`) as unknown[]).at(-1)));
  return [...reply.text.matchAll(/<(?:td|strong|text)[^>]*>\s*(\d+)\s*<\/(?:td|strong|text)>|<title>[^<]*:\s*(\d+)<\/title>/g)].map((match) => Number(match[1] ?? match[2]));
}

describe('what a partner (partner_viewer) can reach', () => {
  it('is aggregates only on every route: no reference code, no time finer than a day, no count from 1 to 4', async () => {
    const reachable = built.flatMap((router) => routesOf(router as unknown as { stack: Layer[] })).filter((route) => /^\/(console|api)\b/.test(route.path) && partnerMay(route));
    // Besides reading, a partner may only sign in and out and change their password.
    const writes = reachable.filter((route) => !route.methods.includes('get')).map((route) => route.path);
    expect([...new Set(writes)].sort()).toEqual(['/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/password', '/console/login', '/console/logout']);
    const reads = [...new Set(reachable.filter((route) => route.methods.includes('get')).map((route) => route.path))];
    expect(reads.filter((path) => path.includes(':'))).toEqual([]);
    expect(reads).toEqual(expect.arrayContaining(['/console/hotline/figures', '/api/v1/hotline/figures', '/api/v1/hotline/export.csv']));

    for (const path of reads) {
      const reply = await partner.call('GET', path);
      const where = `GET ${path}`;
      expect({ where, status: reply.status }).toEqual({ where, status: 200 });
      for (const ref of refs) expect({ where, leaks: reply.text.includes(ref) }).toEqual({ where, leaks: false });
      expect({ where, time: TIME.exec(reply.text)?.[0] }).toEqual({ where, time: undefined });
      expect({ where, small: countsIn(reply).filter(small) }).toEqual({ where, small: [] });
    }
  });

  it('shows the counts of 5 and more, "<5" for smaller ones, and hides one more where a lone "<5" could be worked out', async () => {
    const figures = (await partner.call('GET', '/api/v1/hotline/figures')).json;
    expect(figures).toMatchObject({
      total: 10,
      byRegion: { kayes: 7, segou: '<5', mopti: '<5' },
      byUrgency: { normal: 7, urgent: '<5', child_in_danger: '<5' },
      byLanguage: { fr: '5+', bm: '<5' },
      byStatus: { new: '5+', completed: '<5' },
      byOutcome: { referred_police: '<5' },
      medianMinutesToFirstAttempt: null,
    });
    const today = new Date().toISOString().slice(0, 10);
    expect(figures.to).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((figures.perDay as Array<{ day: string; count: unknown }>).find((point) => point.day === today)?.count).toBe(10);

    const csv = (await partner.call('GET', '/api/v1/hotline/export.csv')).text;
    expect(csv.split('\r\n')[0]).toBe('dimension,value,count');
    expect(csv).toContain('"region","kayes","7"');
    expect(csv).toContain('"region","segou","<5"');
    const page = await partner.call('GET', '/console/hotline/figures?lang=en');
    expect(page.text).toContain('<td>&lt;5</td>');
    expect(page.text).toContain('<td>7</td>');

    // Admins still see exact counts and one line per request.
    const full = (await admin.call('GET', '/api/v1/hotline/figures')).json;
    expect(full).toMatchObject({ total: 10, byRegion: { kayes: 7, segou: 2, mopti: 1 }, byStatus: { new: 9, completed: 1 } });
    const rows = (await admin.call('GET', '/api/v1/hotline/export.csv')).text;
    expect(rows.trim().split('\r\n')).toHaveLength(11);
    for (const ref of refs) expect(rows).toContain(ref);
  });
});
