import { parseConfig, readEnvironment } from '../config/config';
import { generateSecrets } from '../config/generated-secrets';
import { createLogger } from '../platform/logger';
import { connectMongo } from '../platform/mongo';
import { recountResults } from '../results/recount';
import { resultQuestionsIn } from '../results/results-deps';

/**
 * `npm run results:recount`: makes the results pages' counts of the flows' questions again from `results` and
 * `respondent_profiles` (with the worker stopped). Without MONGODB_URI it uses the server `npm run dev` runs.
 */
async function main(): Promise<number> {
  const config = parseConfig({ ...generateSecrets(), ...readEnvironment() });
  const uri = config.mongodbUri ?? `mongodb://127.0.0.1:${config.embeddedMongodbPort}/safeline`;
  const mongo = connectMongo(uri, createLogger({ level: 'warn', name: 'results-recount' }));
  try {
    await mongo.opened;
    const started = Date.now();
    const done = await recountResults(mongo.connection, resultQuestionsIn(config));
    console.log(
      `${done.results} results, ${done.respondents} respondents' answers, ${done.counters} counter documents, ${Date.now() - started} ms`,
    );
    return 0;
  } finally {
    await mongo.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`results:recount: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
