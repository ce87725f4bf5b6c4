/**
 * bench:indicators: how long GET /api/v1/indicators' reads take for one month and for a quarter with
 * INDICATORS_RESULTS (default 1,000,000) stored quiz results over twelve months, 50,000 respondents
 * with a region, on the MongoDB-compatible server over a fresh PostgreSQL database (dropped at the end).
 */
import mongoose from 'mongoose';
import { createCampaignStore } from '../src/campaigns/campaign-store';
import { createMessageStore } from '../src/campaigns/message-store';
import { createHotlineStore } from '../src/hotline/hotline-store';
import { indicatorRows } from '../src/indicators/indicator-sources';
import { createRespondentProfiles } from '../src/results/respondent-profiles';
import { createResultsStore } from '../src/results/results-store';
import { createPhoneProtection } from '../src/shared/phone-protection';
import { createSubscriberStore } from '../src/subscribers/subscriber-store';
import { createSessionEventsStore } from '../src/ussd/session-events-store';
import { generateSecrets } from '../src/config/generated-secrets';
import { parseConfig } from '../src/config/config';
import { cleanup, cleanupOnSignals, startMongoOnFreshPostgres } from './support';

const TOTAL = Number(process.env.INDICATORS_RESULTS ?? 1_000_000);
const RESPONDENTS = 50_000;
const REGIONS = ['bamako', 'kayes', 'koulikoro', 'sikasso', 'segou', 'mopti', 'tombouctou', 'gao'];

async function main(): Promise<void> {
  cleanupOnSignals('dropping the bench database');
  const { server } = await startMongoOnFreshPostgres('indicators');
  const connection = await mongoose.createConnection(`${server.uri.replace(/\/?(\?|$)/, '/bench$1')}`).asPromise();
  const results = createResultsStore(connection);
  const profiles = createRespondentProfiles(connection);
  const hash = (n: number): string => n.toString(16).padStart(32, '0');
  // One write through each store builds its indexes; the bulk goes in by insertMany.
  await results.record({ respondent: hash(1), sitting: hash(1), flow: 'quiz', node: 'q', result: 'q', category: 'a', correct: true, language: 'fr', eventId: 'e' }, new Date('2026-01-01T10:00:00Z'));
  const started = Date.now();
  const raw = connection.collection('results');
  for (let i = 0; i < TOTAL; i += 5_000) {
    await raw.insertMany(Array.from({ length: Math.min(5_000, TOTAL - i) }, (_, j) => {
      const n = i + j;
      const at = new Date(Date.UTC(2026, n % 12, 1 + (n % 28), 10));
      const respondent = hash(n % RESPONDENTS);
      return { _id: `${respondent}${n}:quiz:q${n % 5}`, respondent, sitting: `${respondent}${n}`, flow: 'quiz', node: `q${n % 5}`, result: `q${n % 5}`, category: 'a', correct: n % 3 !== 0, language: 'fr', eventId: `e${n}`, at, day: at.toISOString().slice(0, 10) } as never;
    }), { ordered: false });
  }
  const answers = connection.collection('respondent_profiles');
  for (let i = 0; i < RESPONDENTS; i += 5_000) {
    await answers.insertMany(Array.from({ length: 5_000 }, (_, j) => ({ _id: `${hash(i + j)}:region`, respondent: hash(i + j), field: 'region', value: REGIONS[(i + j) % REGIONS.length], at: new Date() }) as never), { ordered: false });
  }
  console.log(`stored ${TOTAL} results and ${RESPONDENTS} profiles in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const config = parseConfig({ ...generateSecrets(), MONGODB_URI: 'mongodb://127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:6379' });
  const sources = {
    campaigns: createCampaignStore(connection), messages: createMessageStore(connection), hotline: createHotlineStore(connection),
    results, profiles, subscribers: createSubscriberStore(connection),
    sessions: createSessionEventsStore(connection, createPhoneProtection(config.secrets), () => new Date()),
  };
  for (const [from, to] of [['2026-03', '2026-03'], ['2026-04', '2026-06'], ['2026-03', '2026-03']] as const) {
    const t0 = Date.now();
    const rows = await indicatorRows(sources, from, to);
    const rate = rows.find((row) => row.indicator === 'quiz_correct_rate' && row.region === 'all');
    console.log(`${from}..${to}: ${rows.length} rows in ${Date.now() - t0} ms (quiz correct ${String(rate?.value)}, n ${String(rate?.denominator)})`);
  }
  await connection.close();
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => void cleanup().then(() => process.exit()));
