import { randomInt } from 'node:crypto';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { referenceCodesOf } from '../../src/hotline/reference-codes-of';
import { createHotlineStore, type CallbackRequest } from '../../src/hotline/hotline-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

const OPEN = 130;
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const newReference = (): string => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const URGENCIES = ['child_in_danger', 'urgent', 'normal', 'normal', 'normal'];
const WINDOWS = ['morning', 'midday', 'afternoon', 'evening'];
let running: RunningSafeline;
let ordered: string[] = [];
const claimed: string[] = [];
const agent = staffClient(() => running.url);
let seedMs = 0;

type Page = { items: Array<{ _id: string; urgencyRank: number }>; page: number; pages: number; perPage: number; total: number; counts: Record<string, number> };
const queue = async (query = ''): Promise<Page> => (await agent.call('GET', `/api/v1/hotline/queue${query}`)).json as unknown as Page;

beforeAll(async () => {
  const config = testConfig();
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [['agent@safeline.test', ['hotline_agent']]]);
  expect((await agent.signIn('agent@safeline.test')).status).toBe(200);

  // Open requests through the intake use case, ten at a time; every seventh from Segou.
  const protection = createPhoneProtection(config.secrets);
  const intake = createHotlineIntake(running.infra, referenceCodesOf(running.infra));
  const refs = Array.from({ length: OPEN }, newReference);
  const started = performance.now();
  for (let batch = 0; batch < OPEN; batch += 10) {
    await Promise.all(
      refs.slice(batch, batch + 10).map((reference, offset) => {
        const index = batch + offset;
        const phone = `+2237040${String(index).padStart(4, '0')}`;
        const input = { reference, eventKey: `seed:${reference}`, phoneHash: protection.hash(phone), phoneSealed: protection.encrypt(phone), language: 'fr', window: WINDOWS[index % 4] ?? 'morning', topic: 'other', urgency: URGENCIES[index % 5] ?? 'normal', region: index % 7 === 0 ? 'segou' : 'kayes', confirmBySms: false, channel: 'ussd' as const };
        return intake.recordCallbackRequest(input, new Date(Date.now() - index * 60_000));
      }),
    );
  }
  seedMs = performance.now() - started;
  // Most urgent first, then soonest due, as worked out here from what was stored.
  const store = createHotlineStore(running.infra.mongo.connection);
  const stored = (await Promise.all(refs.map((ref) => store.findCallbackRequest(ref)))) as CallbackRequest[];
  ordered = stored.sort((a, b) => a.urgencyRank - b.urgencyRank || a.dueAt.getTime() - b.dueAt.getTime() || (a._id < b._id ? -1 : 1)).map((request) => request._id);
  for (const ref of ordered.slice(60, 63)) {
    expect((await agent.call('POST', `/api/v1/hotline/requests/${ref}/claim`)).status).toBe(200);
    claimed.push(ref);
  }
});
afterAll(() => running.stop());

describe(`the queue with ${OPEN} open requests`, () => {
  it('gives 50 a page, most urgent first, page 2 going on where page 1 stopped, with the counts per status', async () => {
    expect(seedMs).toBeLessThan(20_000);
    const [first, second, third] = [await queue(), await queue('?page=2'), await queue('?page=3')];
    expect(first.items.map((item) => item._id)).toEqual(ordered.slice(0, 50));
    expect(second.items.map((item) => item._id)).toEqual(ordered.slice(50, 100));
    expect(third.items.map((item) => item._id)).toEqual(ordered.slice(100));
    expect(first.items[0]?.urgencyRank).toBe(0);
    expect(first).toMatchObject({ page: 1, pages: 3, perPage: 50, total: OPEN, counts: { open: OPEN, new: OPEN - 3, claimed: 3, in_progress: 0 } });
    // A page past the end shows the last one; filters count on their own.
    expect((await queue('?page=9')).page).toBe(3);
    const segou = await queue('?region=segou');
    const inSegou = Math.ceil(OPEN / 7);
    expect(segou).toMatchObject({ total: inSegou, pages: 1, counts: { open: inSegou } });
    expect(await queue('?status=claimed')).toMatchObject({ total: 3, counts: { open: OPEN, claimed: 3 } });
    expect((await queue('?status=claimed')).items.map((item) => item._id)).toEqual(claimed);
    expect((await agent.call('GET', '/api/v1/hotline/queue?page=0')).status).toBe(400);
  });

  it('shows the console page a page at a time, its counts and page links, and refreshes the page it is on', async () => {
    const rowsOf = (html: string): string[] => [...html.matchAll(/<tr class="[^"]*"><td><a href="\/console\/hotline\/([A-Z0-9]{6})">/g)].map((match) => match[1] ?? '');
    const page1 = await agent.call('GET', '/console/hotline?lang=en');
    expect(rowsOf(page1.text)).toEqual(ordered.slice(0, 50));
    expect(page1.text).toContain(`Open requests: ${OPEN}`);
    expect(page1.text).toContain(`Page 1 of 3: requests 1 to 50 of ${OPEN}`);
    expect(page1.text).toContain('<span data-count="claimed">3</span>');
    expect(page1.text).toContain('href="/console/hotline?page=2" rel="next"');
    expect(page1.text).toContain('data-live-src="/console/hotline/rows"');

    const page2 = await agent.call('GET', '/console/hotline?page=2&region=kayes');
    expect(page2.text).toContain('data-live-src="/console/hotline/rows?region=kayes&amp;page=2"');
    const live = await agent.call('GET', '/console/hotline/rows?page=2');
    expect(rowsOf(live.text)).toEqual(ordered.slice(50, 100));
    expect(live.text).toContain('rel="prev"');
    // The page is 50 rows, not the whole queue.
    expect(page1.text.length).toBeLessThan(60_000);
  });
});
