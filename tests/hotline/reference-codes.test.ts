import { randomUUID } from 'node:crypto';
import { createHotlineStore, type HotlineStore } from '../../src/hotline/hotline-store';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { hotlineModule } from '../../src/hotline/hotline-module';
import { CODE_PATTERN, SEQUENCE_LIMIT, SPACE, createCodePermutation } from '../../src/hotline/reference-code-space';
import { RESEED_GAP, createReferenceCodes, referenceSequenceKey } from '../../src/hotline/reference-codes';
import { referenceCodesOf, type ReferenceCodesFactory } from '../../src/hotline/reference-codes-of';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { gatewayModule } from '../../src/gateway/gateway-module';
import { createSmsModule } from '../../src/sms/sms-module';
import { createStaffStore } from '../../src/staff/staff-store';
import { staffModule } from '../../src/staff/staff-module';
import { createUssdModule } from '../../src/ussd/ussd-module';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';

const KEY = 'ab'.repeat(32);

// A source that hands out the same code to the next `forced` takers, then the real allocator's.
let FORCED = 'K7M2QX';
let forced = 0;
const forcing: ReferenceCodesFactory = (infra) => {
  const real = referenceCodesOf(infra);
  return {
    prepare: () => real.prepare(),
    take: () => (forced-- > 0 ? FORCED : real.take()),
    fresh: () => (forced-- > 0 ? Promise.resolve(FORCED) : real.fresh()),
  };
};

let running: RunningSafeline;
let store: HotlineStore;
let protection: PhoneProtection;
const agent = staffClient(() => running.url);

beforeAll(async () => {
  const config = testConfig();
  running = await startSafeline(config, captureLogger('warn').logger, [
    createUssdModule(forcing), staffModule, gatewayModule, createSmsModule(forcing), hotlineModule,
  ]);
  await running.infra.mongo.opened;
  store = createHotlineStore(running.infra.mongo.connection);
  protection = createPhoneProtection(config.secrets);
  await createStaff(createStaffStore(running.infra.mongo.connection), [['awa@safeline.test', ['hotline_agent']]]);
  expect((await agent.signIn('awa@safeline.test')).status).toBe(200);
});
afterAll(() => running.stop());

/** Claims a request as the agent and reveals its number. */
async function revealed(reference: string): Promise<string> {
  expect((await agent.call('POST', `/api/v1/hotline/requests/${reference}/claim`)).status).toBe(200);
  const shown = await agent.call('POST', `/api/v1/hotline/requests/${reference}/reveal`);
  expect(shown.status).toBe(200);
  return String(shown.json.phone);
}

let smsId = 0;
async function aide(from: string): Promise<string> {
  const res = await fetch(`${running.url}/sms/inbound?token=${running.infra.config.sms.callbackToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ from, to: '321', text: 'AIDE', id: `aide-${(smsId += 1)}`, date: new Date().toISOString() }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference: string }).reference;
}

describe('a forced collision loses nothing and merges nothing', () => {
  it('keeps two AIDE from two numbers given the same first code as two requests, each told its own stored code', async () => {
    const [first, second] = ['+22371000001', '+22371000002'];
    forced = 2;
    const a = await aide(first);
    const b = await aide(second);
    expect(a).toBe(FORCED);
    expect(b).not.toBe(FORCED);
    expect(b).toMatch(CODE_PATTERN);
    const [ra, rb] = [await store.findCallbackRequest(a), await store.findCallbackRequest(b)];
    expect(ra?.phoneHash).toBe(protection.hash(first));
    expect(rb?.phoneHash).toBe(protection.hash(second));
    expect(rb?.toldReference).toBe(FORCED);
    expect(ra?.joined).toEqual([]);
    expect(await revealed(a)).toBe(first);
    expect(await revealed(b)).toBe(second);

    // A later AIDE from the second number joins the second number's request, never the first's.
    const later = await aide(second);
    expect((await store.findCallbackRequest(b))?.joined.map((entry) => entry.reference)).toEqual([later]);
    expect((await store.findCallbackRequest(a))?.joined).toEqual([]);
    expect((await store.openPointer(protection.hash(second)))?.reference).toBe(b);
    expect((await store.openPointer(protection.hash(first)))?.reference).toBe(a);
  });

  it('keeps two USSD callback requests shown the same code as two requests with their own numbers', async () => {
    const phones = ['+22371000011', '+22371000012'];
    FORCED = 'P3N8RT';
    forced = 2;
    const shown: string[] = [];
    for (const phone of phones) {
      const call = caller(running.url, running.infra.config.ussd.callbackToken, phone, `ATUid_${randomUUID()}`);
      let reply = await call.dial();
      // English, callback, "help for a victim", evening, no SMS.
      for (const input of ['3', '3', '3', '4', '1']) reply = await call.type(input);
      expect(reply.body).toMatch(/^END /);
      shown.push(/\b([2-9A-HJKMNP-TV-Z]{6})\b/.exec(reply.body)?.[1] ?? '');
    }
    expect(shown).toEqual([FORCED, FORCED]);
    const stored = await eventually(
      async () => Promise.all(phones.map(async (phone) => (await store.openPointer(protection.hash(phone)))?.reference)),
      (refs) => refs.every(Boolean),
    );
    expect(new Set(stored).size).toBe(2);
    for (const [i, reference] of stored.entries()) {
      const request = await store.findCallbackRequest(reference ?? '');
      expect(request?.phoneHash).toBe(protection.hash(phones[i] ?? ''));
      expect(request?.joined).toEqual([]);
      expect(await revealed(reference ?? '')).toBe(phones[i]);
    }
    // The one stored under a fresh code keeps the code its caller was told.
    expect(stored.filter((reference) => reference !== FORCED)).toHaveLength(1);
    const moved = await store.findCallbackRequest(stored.find((reference) => reference !== FORCED) ?? '');
    expect(moved?.toldReference).toBe(FORCED);
  });

  it('stores two reports shown the same code as two reports', async () => {
    FORCED = 'W4H9CD';
    forced = 0;
    const intake = createHotlineIntake(running.infra, forcing(running.infra));
    const report = { reference: FORCED, kind: 'mines', region: 'kayes', urgency: 'normal', wantsCallback: false, channel: 'ussd' as const };
    const one = await intake.recordReport({ ...report, eventKey: 'r-1' }, new Date());
    const two = await intake.recordReport({ ...report, eventKey: 'r-2' }, new Date());
    expect(one).toBe(FORCED);
    expect(two).not.toBe(FORCED);
    expect(await store.findReport(two)).toMatchObject({ toldReference: FORCED, kind: 'mines' });
    // Replays of either find what they stored, and store nothing twice.
    expect(await intake.recordReport({ ...report, eventKey: 'r-2' }, new Date())).toBe(two);
    expect(await intake.recordReport({ ...report, eventKey: 'r-1' }, new Date())).toBe(FORCED);
    expect((await store.listReports(1_000)).filter((stored) => stored.kind === 'mines')).toHaveLength(2);
  });
});

describe('the sequence', () => {
  it('hands out distinct codes across processes, and re-seeds above every recorded block when its key is lost', async () => {
    const { infra } = running;
    const prefix = `${infra.config.queuePrefix}:seq-${randomUUID().slice(0, 8)}`;
    const make = () => createReferenceCodes({ redis: infra.redis.client, connection: infra.mongo.connection, prefix, permutationKey: KEY, logger: infra.logger });
    const [one, two] = [make(), make()];
    const codes = new Set<string>();
    for (let i = 0; i < 2_000; i += 1) codes.add(await (i % 2 ? one : two).fresh());
    expect(codes.size).toBe(2_000);
    const permutation = createCodePermutation(KEY);
    const highest = Math.max(...[...codes].map((code) => permutation.numberOf(code) ?? -1));
    expect(highest).toBeLessThan(SEQUENCE_LIMIT);

    // The high water is written in the background after each block.
    await new Promise((done) => setTimeout(done, 300));
    await infra.redis.client.del(referenceSequenceKey(prefix));
    const after = await make().fresh();
    expect(codes.has(after)).toBe(false);
    expect(permutation.numberOf(after)).toBeGreaterThanOrEqual(highest + RESEED_GAP - 50);
  });
});

// Last: a million codes keep the event loop busy for seconds (pooled HTTP connections would go stale).
describe('the code space', () => {
  it('gives 1,000,000 consecutive numbers 1,000,000 different codes, each readable and mapped back to its number', () => {
    const permutation = createCodePermutation(KEY);
    const seen = new Set<string>();
    for (let n = 0; n < 1_000_000; n += 1) seen.add(permutation.codeOf(n));
    expect(seen.size).toBe(1_000_000);
    for (const code of [...seen].slice(0, 1_000)) expect(code).toMatch(CODE_PATTERN);
    for (const n of [0, 1, 2, 999_999, SEQUENCE_LIMIT, SPACE - 1]) expect(permutation.numberOf(permutation.codeOf(n))).toBe(n);
    // Neighbours do not look alike: consecutive numbers share no more than chance would give.
    const samePlace = (a: string, b: string) => [...a].filter((char, i) => b[i] === char).length;
    const shared = Array.from({ length: 1_000 }, (_, n) => samePlace(permutation.codeOf(n), permutation.codeOf(n + 1)));
    expect(shared.reduce((a, b) => a + b, 0) / shared.length).toBeLessThan(0.5);
    // Another key, another order.
    expect(createCodePermutation('cd'.repeat(32)).codeOf(0)).not.toBe(permutation.codeOf(0));
  }, 120_000);

  it('keeps the random half apart from the sequence half', () => {
    const permutation = createCodePermutation(KEY);
    for (let i = 0; i < 10_000; i += 1) {
      const n = SEQUENCE_LIMIT + Math.floor(Math.random() * (SPACE - SEQUENCE_LIMIT));
      expect(permutation.numberOf(permutation.codeOf(n))).toBeGreaterThanOrEqual(SEQUENCE_LIMIT);
    }
  });
});
