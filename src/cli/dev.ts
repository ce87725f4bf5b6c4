import { resolve } from 'node:path';
import { ConfigError, parseConfig, readEnvironment } from '../config/config';
import { localSecrets } from '../config/generated-secrets';
import { planDevKannel, wantsDevKannel, type DevKannelPlan } from '../dev-services/dev-kannel';
import { ensureMongoServerBinary, startMongoServer } from '../dev-services/mongo-server';
import { freePort, isListening } from '../dev-services/free-port';
import { startRedisServer } from '../dev-services/redis-server';
import { createLogger } from '../platform/logger';
import { modules } from '../modules';
import { runUntilSignal } from '../run-until-signal';
import { startSafeline } from '../safeline';

/**
 * `npm run dev`: everything in one process (role all) on a fresh machine with no configuration.
 * Where MONGODB_URI is not set it builds and starts the embedded MongoDB-compatible server with
 * its data under DATA_DIR; where no Redis answers at REDIS_URL's default it starts redis-server. With
 * SMS_GATEWAY=kannel and no Kannel URL set, it starts SMSC simulators and Kannel in front of them (dev-kannel.ts).
 */
async function main(): Promise<void> {
  const given = readEnvironment();
  // Secrets not set are generated once and kept under DATA_DIR, so a fresh machine needs no configuration.
  const secrets = localSecrets(resolve(given.DATA_DIR ?? './data', 'dev-secrets.json'), given);
  // Kannel's ports and passwords are chosen before the configuration is read: it needs them.
  let kannelPlan: DevKannelPlan | undefined;
  try {
    if (wantsDevKannel(secrets)) kannelPlan = await planDevKannel(secrets, resolve(secrets.DATA_DIR ?? './data'));
  } catch (err) {
    console.error(`safeline: SMS_GATEWAY=kannel: ${(err as Error).message}`);
    process.exit(69);
  }
  const env = { ...secrets, ...kannelPlan?.env };
  let config;
  try {
    config = parseConfig({ ...env, SAFELINE_ROLE: env.SAFELINE_ROLE ?? 'all' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`safeline: ${err.message}`);
    process.exit(78);
  }
  const logger = createLogger({ level: config.logLevel, name: 'safeline-dev' });
  const stops: Array<() => Promise<void>> = [];
  const dataDir = resolve(config.dataDir);

  let mongodbUri = config.mongodbUri;
  if (!mongodbUri) {
    const started = Date.now();
    const binaryPath = ensureMongoServerBinary();
    const port = (await isListening('127.0.0.1', config.embeddedMongodbPort)) ? await freePort() : config.embeddedMongodbPort;
    const server = await startMongoServer({ storage: { sqliteDir: resolve(dataDir, 'mongo') }, port, binaryPath });
    stops.push(() => server.stop());
    mongodbUri = `${server.uri.replace(/\/$/, '')}/safeline`;
    logger.info(
      `embedded mongodb: FerretDB on SQLite at ${mongodbUri}, data in ${resolve(dataDir, 'mongo')} (ready in ${Date.now() - started} ms)`,
    );
  }

  let redisUrl = config.redisUrl;
  const { hostname, port } = new URL(redisUrl);
  if (!env.REDIS_URL && !(await isListening(hostname, Number(port || 6379)))) {
    const server = await startRedisServer({ dir: resolve(dataDir, 'redis') });
    stops.push(() => server.stop());
    redisUrl = server.url;
    logger.info(`local redis: redis-server started at ${redisUrl} (nothing kept on disk)`);
  }

  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  const devModules = [...modules];
  if (kannelPlan) {
    const started = Date.now();
    try {
      const chain = await kannelPlan.start();
      stops.push(() => chain.stop());
      devModules.push(chain.module);
      for (const line of chain.howTo) logger.info(line);
      logger.info(`dev kannel: binds ${kannelPlan.smscs.join(', ')} online (ready in ${Date.now() - started} ms)`);
    } catch (err) {
      logger.fatal({ err }, 'dev kannel: Kannel and the simulated operators did not start');
      await stopAll();
      process.exit(1);
    }
  }

  const devConfig = parseConfig({ ...env, SAFELINE_ROLE: config.role, MONGODB_URI: mongodbUri, REDIS_URL: redisUrl });
  if (!given.USSD_CALLBACK_TOKEN) {
    logger.info(
      `ussd callback: POST /ussd?token=<USSD_CALLBACK_TOKEN from ${resolve(dataDir, 'dev-secrets.json')}>; try: npm run simulate`,
    );
  }
  await runUntilSignal(logger, devConfig, () => startSafeline(devConfig, logger, devModules), stopAll);
}

void main();
