import { randomBytes } from 'node:crypto';
import { createCampaignStore } from '../../src/campaigns/campaign-store';
import { createMessageStore, type SendResult } from '../../src/campaigns/message-store';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createStaffStore } from '../../src/staff/staff-store';
import { FLOW_EVENT_JOB_OPTIONS, FLOW_EVENTS_QUEUE, type FlowEventJob } from '../../src/ussd/apply-flow-events';
import { eventually } from '../support/eventually';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

/*
 * Results pages and API through the real app (HTTP, the worker applying flow events from the Bull queue, Redis,
 * the MongoDB-compatible server): answers and profiles go in as the USSD worker's events, the figures come out
 * counted by respondent, small cells suppressed, and a campaign naming the quiz compared before and after.
 */
let running: RunningSafeline;
let protection: PhoneProtection;
const manager = staffClient(() => running.url);
const admin = staffClient(() => running.url);
const agent = staffClient(() => running.url);
const partner = staffClient(() => running.url);
const phones: string[] = [];
let managerId = '';

const hex = (): string => randomBytes(32).toString('hex');
const W1 = '2026-03-03T10:00:00Z'; // week of Monday 2026-03-02
const REACHED = new Date('2026-03-05T09:00:00Z');
const W2 = '2026-03-10T10:00:00Z'; // week of 2026-03-09

let phoneSeq = 0;
const newPhone = (): string => {
  const phone = `+2237${String(6_000_000 + (phoneSeq += 1) * 7_919).padStart(7, '0')}`;
  phones.push(phone);
  return phone;
};
const jobs: FlowEventJob[] = [];
const event = (phone: string, at: string, body: FlowEventJob['event'], eventId = hex()): FlowEventJob => {
  const job = { eventId, sessionId: `ATUid_${eventId.slice(0, 12)}`, phoneHash: protection.hash(phone), phoneSealed: '', at, event: body };
  jobs.push(job);
  return job;
};
const answer = (phone: string, at: string, result: string, category: string, correct: boolean, language: string, sitting = hex()) =>
  event(phone, at, { type: 'result.recorded', sitting, flow: 'quiz', node: result, result, category, correct, language });
const profile = (phone: string, region: string, age: string, sex: string) => {
  for (const [field, category] of [['region', region], ['age_band', age], ['sex', sex]] as const) {
    event(phone, W1, { type: 'profile.answered', field, category });
  }
};

async function applied(): Promise<void> {
  const queue = running.infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE);
  for (const job of jobs.splice(0)) await queue.add(job, { ...FLOW_EVENT_JOB_OPTIONS, jobId: job.eventId });
  const idle = (counts: { waiting: number; active: number; delayed: number; failed: number }) =>
    counts.waiting + counts.active + counts.delayed + counts.failed === 0;
  expect(idle(await eventually(() => queue.getJobCounts(), idle, 60_000))).toBe(true);
}

const reachedPhones: string[] = [];
const knowsLaw = { yes: [] as string[], no: [] as string[] };

beforeAll(async () => {
  const config = testConfig();
  protection = createPhoneProtection(config.secrets);
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  const ids = await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['manager@safeline.test', ['campaign_manager']],
    ['admin@safeline.test', ['admin']],
    ['agent@safeline.test', ['hotline_agent']],
    ['partner@safeline.test', ['partner_viewer']],
  ]);
  managerId = ids.get('manager@safeline.test') ?? '';
  for (const [client, who] of [[manager, 'manager'], [admin, 'admin'], [agent, 'agent'], [partner, 'partner']] as const) {
    expect((await client.signIn(`${who}@safeline.test`)).status).toBe(200);
  }

  // knows_law (right: yes). Kayes, French: 7 yes and 5 no; Segou, Bambara: 3 yes; no profile, English: 2 "don't know".
  const kayes = Array.from({ length: 12 }, newPhone);
  const segou = Array.from({ length: 3 }, newPhone);
  const unknown = Array.from({ length: 2 }, newPhone);
  kayes.forEach((phone, i) => (i < 7 ? knowsLaw.yes : knowsLaw.no).push(phone));
  for (const phone of kayes.slice(0, 10)) answer(phone, W1, 'knows_law', kayes.indexOf(phone) < 7 ? 'yes' : 'no', kayes.indexOf(phone) < 7, 'fr');
  // The 11th answers yes, goes back ("0") and answers no in the same call: one answer, the later.
  const sitting = hex();
  answer(kayes[10] ?? '', W1, 'knows_law', 'yes', true, 'fr', sitting);
  answer(kayes[10] ?? '', '2026-03-03T10:00:05Z', 'knows_law', 'no', false, 'fr', sitting);
  // The 12th answers yes in the first week and no in a later call, the week after: counted once, with no.
  const first = answer(kayes[11] ?? '', W1, 'knows_law', 'yes', true, 'fr');
  answer(kayes[11] ?? '', W2, 'knows_law', 'no', false, 'fr');
  for (const phone of segou) answer(phone, W1, 'knows_law', 'yes', true, 'bm');
  for (const phone of unknown) answer(phone, W1, 'knows_law', 'dont_know', false, 'en');
  await applied();
  // The profiles come after the answers (events apply in any order): the counts move to the regions.
  for (const phone of kayes) profile(phone, 'kayes', '18_24', 'female');
  for (const phone of segou) profile(phone, 'segou', '25_34', 'male');
  await applied();
  // A replayed event (the same id, in a job of its own) changes nothing.
  await running.infra.queues.create<FlowEventJob>(FLOW_EVENTS_QUEUE).add(first, { ...FLOW_EVENT_JOB_OPTIONS, jobId: `${first.eventId}-again` });
  await applied();

  // spots_false_promise (right: trap): 10 reached by the campaign on 5 March, 5 right before, all 10 right after;
  // 6 never reached (one of them was sent the SMS, which failed), none right.
  for (let i = 0; i < 10; i += 1) {
    const phone = newPhone();
    reachedPhones.push(phone);
    answer(phone, W1, 'spots_false_promise', i < 5 ? 'trap' : 'opportunity', i < 5, 'fr');
    answer(phone, W2, 'spots_false_promise', 'trap', true, 'fr');
  }
  const notReached = Array.from({ length: 6 }, newPhone);
  for (const phone of notReached) answer(phone, W1, 'spots_false_promise', 'opportunity', false, 'fr');
  await applied();
  (globalThis as { failedPhone?: string }).failedPhone = notReached[0];
}, 180_000);
afterAll(() => running?.stop());

describe('a question\'s figures', () => {
  it('lists the questions with their respondents, each counted once', async () => {
    const reply = await manager.call('GET', '/api/v1/results');
    expect(reply.status).toBe(200);
    const questions = reply.json.questions as Array<{ flow: string; result: string; respondents: unknown; title: Record<string, string> }>;
    expect(questions.map((q) => [`${q.flow}/${q.result}`, q.respondents])).toEqual([
      ['quiz/knows_law', 17], ['quiz/spots_false_promise', 16], ['quiz/knows_debt_bondage', 0], ['quiz/safe_migration', 0],
    ]);
    expect(questions[0]?.title.en).toContain('does the law punish trafficking');
  });

  it('counts and shares by category, by region, language, age band, sex and week, cells under 5 suppressed', async () => {
    const reply = await manager.call('GET', '/api/v1/results/quiz/knows_law');
    expect(reply.status).toBe(200);
    const { overall, by } = reply.json as { overall: Record<string, unknown>; by: Record<string, Array<Record<string, unknown>>> };
    // 10 yes, 5 no, 2 don't know: "<5", and the next smallest hidden so that it cannot be worked out.
    expect(overall).toEqual({
      value: 'all', respondents: 17, counts: { yes: 10, no: '5+', dont_know: '<5' },
      shares: { yes: 10 / 17, no: null, dont_know: null }, correct: 10, correctRate: 10 / 17,
    });
    const row = (breakdown: string, value: string) => by[breakdown]?.find((entry) => entry.value === value);
    expect(row('region', 'kayes')).toEqual({
      value: 'kayes', respondents: 12, counts: { yes: 7, no: 5, dont_know: 0 }, shares: { yes: 7 / 12, no: 5 / 12, dont_know: 0 },
      correct: 7, correctRate: 7 / 12,
    });
    expect(row('region', 'segou')).toMatchObject({ respondents: '<5', counts: { yes: '<5', no: '<5', dont_know: '<5' }, correctRate: null });
    expect(by.region?.map((entry) => entry.value)).toEqual(['kayes', 'segou', 'unknown']);
    expect(row('language', 'fr')).toMatchObject({ respondents: 12, counts: { yes: 7, no: 5 } });
    expect(row('language', 'bm')).toMatchObject({ respondents: '<5' });
    expect(row('age_band', '18_24')).toMatchObject({ respondents: 12 });
    expect(row('sex', 'female')).toMatchObject({ respondents: 12, correctRate: 7 / 12 });
    expect(row('sex', 'male')).toMatchObject({ respondents: '<5' });
    // By week: the 12th respondent counts in both weeks, with their answer of each.
    expect(row('week', '2026-03-02')).toMatchObject({ respondents: 17, counts: { yes: 11, no: '<5', dont_know: '<5' } });
    expect(row('week', '2026-03-09')).toMatchObject({ respondents: '<5' });
  });

  it('narrows to one region, and says which regions exist when asked for one that does not (400)', async () => {
    const kayes = await manager.call('GET', '/api/v1/results/quiz/knows_law?region=kayes');
    expect(kayes.status).toBe(200);
    expect(kayes.json).toMatchObject({ region: 'kayes', overall: { respondents: 12, counts: { yes: 7, no: 5 } }, by: { region: [] } });
    const atlantis = await manager.call('GET', '/api/v1/results/quiz/knows_law?region=atlantis');
    expect(atlantis.status).toBe(400);
    expect(atlantis.json.error?.message).toMatch(/region "atlantis" does not exist; regions: bamako, kayes/);
    expect((await manager.call('GET', '/console/results/quiz/knows_law?region=atlantis')).status).toBe(400);
  });

  it('answers 404 with the known questions for a question that does not exist', async () => {
    for (const path of ['/api/v1/results/quiz/knows_nothing', '/api/v1/results/nope/knows_law', '/api/v1/results/quiz/knows_nothing.csv']) {
      const reply = await manager.call('GET', path);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
      expect(reply.json.error?.message).toContain('the questions are quiz/knows_law, quiz/spots_false_promise');
    }
    const page = await manager.call('GET', '/console/results/quiz/knows_nothing');
    expect(page.status).toBe(404);
    expect(page.text).toContain('No question &quot;quiz/knows_nothing&quot;');
  });
});

describe('the CSV export', () => {
  it('has one line per category and split, the same suppressed cells, no number and no hash, and is audited', async () => {
    for (const path of ['/api/v1/results/quiz/knows_law.csv', '/api/v1/results/quiz/knows_law?format=csv']) {
      const reply = await manager.call('GET', path);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('text/csv');
      const lines = reply.text.trim().split('\r\n');
      expect(lines[0]).toBe('"split","value","respondents","category","count","share","correct_rate"');
      expect(lines).toContain('"all","all","17","yes","10","0.5882","0.5882"');
      expect(lines).toContain('"all","all","17","dont_know","<5","","0.5882"');
      expect(lines).toContain('"region","kayes","12","no","5","0.4167","0.5833"');
      expect(lines).toContain('"region","segou","<5","yes","<5","",""');
      expect(reply.text).not.toMatch(/[0-9a-f]{16}/);
      for (const phone of phones) {
        expect(reply.text).not.toContain(phone.slice(1));
        expect(reply.text).not.toContain(protection.hash(phone).slice(0, 12));
      }
    }
    const audit = await admin.call('GET', '/api/v1/audit?action=results.exported');
    const entries = audit.json.entries as Array<{ actor: string; target: string; details: Record<string, unknown> }>;
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor: managerId, target: 'quiz/knows_law', details: { flow: 'quiz', result: 'knows_law', region: '' } });
  });
});

describe('who may read results', () => {
  it('is campaign managers and admins; hotline agents and partners are refused, the anonymous asked to sign in', async () => {
    for (const path of ['/api/v1/results', '/api/v1/results/quiz/knows_law', '/api/v1/results/quiz/knows_law.csv']) {
      expect((await admin.call('GET', path)).status).toBe(200);
      expect((await agent.call('GET', path)).status).toBe(403);
      expect((await partner.call('GET', path)).status).toBe(403);
      expect((await fetch(`${running.url}${path}`)).status).toBe(401);
    }
    expect((await agent.call('GET', '/console/results')).status).toBe(403);
    expect((await fetch(`${running.url}/console/results`, { redirect: 'manual' })).status).toBe(303);
    // The navigation offers the page to those who may open it only.
    expect((await manager.call('GET', '/console')).text).toContain('href="/console/results"');
    expect((await agent.call('GET', '/console')).text).not.toContain('href="/console/results"');
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${running.url}/api/docs`)).json()) as { paths: Record<string, Record<string, { 'x-roles': unknown }>> };
    for (const path of ['/api/v1/results', '/api/v1/results/{flow}/{result}', '/api/v1/results/{flow}/{result}.csv', '/api/v1/results/campaigns/{id}']) {
      expect({ path, roles: doc.paths[path]?.get?.['x-roles'] }).toEqual({ path, roles: ['campaign_manager', 'admin'] });
    }
  });
});

describe('the console pages', () => {
  it('list the questions and show one with its bar chart and tables, small cells as "<5"', async () => {
    const index = await manager.call('GET', '/console/results?lang=en');
    expect(index.status).toBe(200);
    expect(index.text).toContain('href="/console/results/quiz/knows_law"');
    const page = await manager.call('GET', '/console/results/quiz/knows_law?lang=en');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<svg class="bars"');
    expect(page.text).toContain('59 % (10 of 17)');
    expect(page.text).toContain('<th scope="row">Kayes</th><td>12</td><td>7 (58 %)</td><td>5 (42 %)</td>');
    expect(page.text).toContain('&lt;5');
    expect(page.text).toContain('Week of 2026-03-09');
    expect(page.text).toContain('href="/api/v1/results/quiz/knows_law.csv"');
  });
});

describe('before and after a campaign', () => {
  it('lets a campaign name a quiz, and only a quiz', async () => {
    const base = { name: 'Quiz invitation', axis: 'prevention', texts: { fr: 'Composez *321*7#' } };
    expect((await manager.call('POST', '/api/v1/campaigns', { ...base, quizFlow: 'main' })).status).toBe(400);
    const created = await manager.call('POST', '/api/v1/campaigns', { ...base, quizFlow: 'quiz' });
    expect(created.status).toBe(200);
    expect(created.json.quizFlow).toBe('quiz');
    (globalThis as { campaignId?: string }).campaignId = String(created.json._id);
  });

  it('compares right-answer rates before the SMS reached people, after, and of those it did not reach, each with its n', async () => {
    const id = (globalThis as { campaignId?: string }).campaignId ?? '';
    const run = `${id}~1`;
    // What the send job records when the gateway takes a message: one accepted send per reached number, one failed.
    const sent = (phone: string, outcome: SendResult['outcome']): SendResult => ({
      _id: hex(), message: `${run}:${protection.hash(phone)}`, campaign: id, run, subscriber: protection.hash(phone),
      outcome, statusCode: outcome === 'accepted' ? 101 : 403, status: outcome, cost: 20, parts: 1, at: REACHED,
    });
    const failedPhone = (globalThis as { failedPhone?: string }).failedPhone ?? '';
    await createMessageStore(running.infra.mongo.connection).insertResults([...reachedPhones.map((p) => sent(p, 'accepted')), sent(failedPhone, 'failed')]);
    await createCampaignStore(running.infra.mongo.connection).addRun(id, run);

    const before = (await manager.call('GET', `/api/v1/results/campaigns/${id}`)).json.questions as Array<{ comparedAt: unknown }>;
    expect(before.map((question) => question.comparedAt)).toEqual([null, null, null, null]);
    expect((await manager.call('POST', `/api/v1/results/campaigns/${id}/compare`)).json).toEqual({ queued: true });
    type Compared = { flow: string; questions: Array<{ result: string; comparedAt: string | null; reached: unknown; groups: unknown }> };
    const compared = await eventually(
      async () => (await manager.call('GET', `/api/v1/results/campaigns/${id}`)).json as unknown as Compared,
      (reply) => reply.questions[0]?.comparedAt !== null,
      30_000,
    );
    expect(compared.flow).toBe('quiz');
    const spots = compared.questions.find((question) => question.result === 'spots_false_promise');
    expect(spots?.reached).toBe(10);
    expect(spots?.groups).toEqual({
      before: { respondents: 10, correct: 5, correctRate: 0.5 },
      after: { respondents: 10, correct: 10, correctRate: 1 },
      notReached: { respondents: 6, correct: 0, correctRate: 0 },
    });
    const law = compared.questions.find((question) => question.result === 'knows_law');
    expect(law?.groups).toEqual({
      before: { respondents: 0, correct: '<5', correctRate: null },
      after: { respondents: 0, correct: '<5', correctRate: null },
      notReached: { respondents: 17, correct: 10, correctRate: 10 / 17 },
    });
    // The question's own figures show the campaign's groups, and its page and CSV too.
    const figures = await manager.call('GET', '/api/v1/results/quiz/spots_false_promise');
    expect(figures.json.campaigns).toEqual([expect.objectContaining({ campaign: id, name: 'Quiz invitation', groups: spots?.groups })]);
    const csv = (await manager.call('GET', '/api/v1/results/quiz/spots_false_promise.csv')).text;
    expect(csv).toContain(`"campaign:${id}","before","10","correct","5","0.5000","0.5000"`);
    expect(csv).toContain(`"campaign:${id}","not_reached","6","correct","0","0.0000","0.0000"`);
    const page = await manager.call('GET', `/console/results/campaigns/${id}?lang=en`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Answered before the campaign reached them');
    expect(page.text).toContain('50 % (5 of 10)');
    expect(page.text).toContain('100 % (10 of 10)');
  });
});
