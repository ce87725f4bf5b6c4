import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseConfig, readEnvironment } from '../config/config';
import { localSecrets } from '../config/generated-secrets';
import { createLogger } from '../platform/logger';
import { connectMongo } from '../platform/mongo';
import { createRedisConnections } from '../platform/redis';
import { createPhoneProtection } from '../shared/phone-protection';
import { importSubscribers } from '../subscribers/import-subscribers';
import { csvText } from '../subscribers/csv-text';
import { createOptOutSet } from '../subscribers/optout-set';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { importAudit } from '../subscribers/run-import-job';
import { fileNameOf } from '../subscribers/subscriber-imports';
import { createAuditLog } from '../staff/audit-log';
import { loadTexts } from '../texts/texts';

/**
 * `npm run subscribers:import -- FILE.csv`: imports consented subscribers with a progress bar.
 * Columns: phone, language, consent_source (required), region, topics, consent_at. Bad rows are
 * listed by line and the good ones kept. Without MONGODB_URI it uses the server `npm run dev` runs,
 * and the keys `npm run dev` generated (numbers must be sealed with the server's own keys).
 */
function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${Math.round((done / Math.max(total, 1)) * 100)}%)`;
}

async function main(): Promise<number> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npm run subscribers:import -- FILE.csv');
    return 2;
  }
  let csv: string;
  try {
    csv = csvText(readFileSync(file));
  } catch (err) {
    console.error(`cannot read ${file}: ${(err as Error).message}`);
    return 2;
  }
  const env = readEnvironment();
  const dataDir = env.DATA_DIR ?? './data';
  const config = parseConfig(localSecrets(resolve(dataDir, 'dev-secrets.json'), env));
  const logger = createLogger({ level: 'warn', name: 'subscribers-import' });
  const mongo = connectMongo(config.mongodbUri ?? `mongodb://127.0.0.1:${config.embeddedMongodbPort}/safeline`, logger);
  const redis = createRedisConnections(config.redisUrl, logger);
  try {
    await mongo.opened;
    const subscribers = createSubscriberStore(mongo.connection);
    const tty = process.stderr.isTTY;
    let lastShown = -1;
    const report = await importSubscribers(
      {
        subscribers,
        optouts: createOptOutSet(redis.client, config.queuePrefix, () => subscribers.optedOut()),
        protection: createPhoneProtection(config.secrets),
        languages: loadTexts(resolve(config.ussd.templatesDir)).languages.map((language) => language.code),
        routes: config.routes,
        now: () => new Date(),
      },
      csv,
      (done, total) => {
        const tenth = Math.floor((done / Math.max(total, 1)) * 10);
        if (tty) process.stderr.write(`\r${bar(done, total)}`);
        else if (tenth !== lastShown) process.stderr.write(`${bar(done, total)}\n`);
        lastShown = tenth;
      },
    );
    if (tty) process.stderr.write('\n');
    await createAuditLog(mongo.connection).append(
      importAudit({ actor: `cli:${userInfo().username}`, fileName: fileNameOf(file), ip: '' }, 'done', report),
    );
    console.log(`${report.imported} of ${report.rows} rows imported, ${report.rejectedCount} rejected`);
    if (report.optedOutByPerson) console.log(`${report.optedOutByPerson} opted out by the person: not re-subscribed`);
    for (const { line, reason } of report.rejected) console.log(`  line ${line}: ${reason}`);
    if (report.rejectedCount > report.rejected.length) console.log(`  ... and ${report.rejectedCount - report.rejected.length} more`);
    return report.imported === 0 && report.rows > 0 ? 1 : 0;
  } finally {
    await redis.close();
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
