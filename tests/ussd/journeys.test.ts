import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { createHotlineStore } from '../../src/hotline/hotline-store';
import { createRespondentProfiles } from '../../src/results/respondent-profiles';
import { createResultsStore } from '../../src/results/results-store';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createCallerProfiles, type CallerProfiles } from '../../src/ussd/caller-profiles';
import { ussdModule } from '../../src/ussd/ussd-module';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig } from '../support/test-env';

/**
 * Scripted journeys in tests/ussd/journeys/*.yaml: what a caller types, what each screen must say,
 * and what the journey must leave in the database (events applied by the worker).
 */
interface Journey {
  name: string;
  phone: string;
  known_language: string | null;
  steps: Array<{ input: string; expect: 'CON' | 'END'; contains?: string[]; contains_ref?: boolean }>;
  events?: Array<Record<string, unknown> & { type: string }>;
}

const dir = join(__dirname, 'journeys');
const files = readdirSync(dir).filter((file) => file.endsWith('.yaml')).sort();
const REF = /\b([2-9A-HJKMNP-TV-Z]{6})\b/;

const { logger, lines } = captureLogger('debug');
let running: RunningSafeline;
let token: string;
let protection: PhoneProtection;
let profiles: CallerProfiles;

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'debug' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
  profiles = createCallerProfiles(running.infra.mongo.connection);
});
afterAll(() => running.stop());

/** A caller who picked a language on an earlier call, through the real channel. */
async function chooseLanguageOnAnEarlierCall(phone: string, language: string): Promise<void> {
  const earlier = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  await earlier.dial();
  await earlier.type(String(['fr', 'bm', 'en'].indexOf(language) + 1));
  const hash = protection.hash(phone);
  expect(await eventually(() => profiles.language(hash), (known) => known === language)).toBe(language);
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 60 && !ok(value); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

async function checkEvent(event: Record<string, unknown> & { type: string }, journey: Journey, refs: string[]): Promise<void> {
  const hash = protection.hash(journey.phone);
  const hotline = createHotlineStore(running.infra.mongo.connection);
  const { type, ...fields } = event;
  switch (type) {
    case 'language.chosen': {
      const chosen = journey.events?.filter((e) => e.type === 'language.chosen').at(-1)?.language;
      expect(await eventually(() => profiles.language(hash), (language) => language === chosen)).toBe(chosen);
      return;
    }
    case 'report.created': {
      const reports = await eventually(
        () => Promise.all(refs.map((ref) => hotline.findReport(ref))),
        (found) => found.some((report) => report && Object.entries(fields).every(([key, value]) => report[key as keyof typeof report] === value)),
      );
      expect(reports).toContainEqual(expect.objectContaining(fields));
      for (const report of reports) expect(JSON.stringify(report ?? {})).not.toContain(journey.phone.slice(4));
      return;
    }
    case 'callback.requested': {
      const requests = await eventually(
        () => Promise.all(refs.map((ref) => hotline.findCallbackRequest(ref))),
        (found) => found.some((request) => request && Object.entries(fields).every(([key, value]) => request[key as keyof typeof request] === value)),
      );
      const request = requests.find((candidate) => candidate && Object.entries(fields).every(([key, value]) => candidate[key as keyof typeof candidate] === value));
      expect(request).toMatchObject({ ...fields, phoneHash: hash, status: 'new' });
      expect(request?.phoneSealed).not.toContain(journey.phone.slice(4));
      expect(protection.decrypt(request?.phoneSealed ?? '')).toBe(journey.phone);
      return;
    }
    case 'subscription.changed': {
      const subscribers = createSubscriberStore(running.infra.mongo.connection);
      const { topic, subscribed } = fields as { topic: string; subscribed: boolean };
      const holds = (s: Awaited<ReturnType<typeof subscribers.find>>): boolean =>
        topic === 'all' ? s?.consent.status === 'opted_out' && s.topics.length === 0 : (s?.topics.includes(topic) ?? false) === subscribed;
      const subscriber = await eventually(() => subscribers.find(hash), holds);
      expect(holds(subscriber)).toBe(true);
      return;
    }
    case 'result.recorded': {
      // Exactly one answer per question of the call (a changed answer replaces the first), by hash, never the number.
      const results = createResultsStore(running.infra.mongo.connection);
      const same = (stored: Record<string, unknown>): boolean => Object.entries(fields).every(([key, value]) => stored[key] === value);
      const mine = await eventually(() => results.ofRespondent(hash), (found) => found.some((stored) => same({ ...stored })));
      expect(mine.filter((stored) => stored.flow === fields.flow && stored.result === fields.result)).toEqual([
        expect.objectContaining({ ...fields, respondent: hash }),
      ]);
      expect(JSON.stringify(mine)).not.toContain(journey.phone.slice(4));
      return;
    }
    case 'profile.answered':
    case 'profile.skipped': {
      const respondents = createRespondentProfiles(running.infra.mongo.connection);
      const { field, category } = fields as { field?: string; category?: string };
      const holds = (found: Awaited<ReturnType<typeof respondents.find>>): boolean =>
        field ? found?.[field as 'region' | 'age_band' | 'sex'] === category : found?.skippedAt !== undefined;
      expect(holds(await eventually(() => respondents.find(hash), holds))).toBe(true);
      // The next call skips the profile: the phone is marked as asked.
      expect(await eventually(() => profiles.find(hash), (found) => found?.profileAsked === true)).toMatchObject({ profileAsked: true });
      return;
    }
    default:
      throw new Error(`journey names an event the runner does not know: ${type}`);
  }
}

describe('USSD journeys (real HTTP, Redis, MongoDB-compatible server, worker)', () => {
  it('has journeys in French, Bambara and English', () => {
    for (const language of ['fr', 'bm', 'en']) expect(files.some((file) => file.startsWith(`${language}-`))).toBe(true);
  });

  it.each(files)('%s', async (file) => {
    const journey = parse(readFileSync(join(dir, file), 'utf8')) as Journey;
    if (journey.known_language) await chooseLanguageOnAnEarlierCall(journey.phone, journey.known_language);
    const call = caller(running.url, token, journey.phone, `ATUid_${randomUUID()}`);
    const refs: string[] = [];
    for (const [index, scripted] of journey.steps.entries()) {
      const reply = index === 0 && scripted.input === '' ? await call.dial() : await call.type(scripted.input);
      const where = `${journey.name}, step ${index + 1} (input "${scripted.input}")`;
      expect({ where, status: reply.status, kind: reply.body.slice(0, 3) }).toEqual({ where, status: 200, kind: scripted.expect });
      for (const text of scripted.contains ?? []) expect({ where, screen: reply.body }).toEqual({ where, screen: expect.stringContaining(text) as unknown });
      if (scripted.contains_ref) {
        const ref = REF.exec(reply.body)?.[1];
        expect({ where, ref }).toEqual({ where, ref: expect.any(String) as unknown });
        refs.push(ref ?? '');
      }
    }
    for (const event of journey.events ?? []) await checkEvent(event, journey, refs);
  });

  it('wrote no phone number and no typed text in the logs', () => {
    expect(lines().join('\n')).not.toMatch(/2237\d{7}/);
  });
});
