import { ConfigError, parseConfig, readEnvironment, type Config } from './config/config';
import { createLogger } from './platform/logger';
import { modules } from './modules';
import { startSafeline } from './safeline';
import { runUntilSignal } from './run-until-signal';

/**
 * The entry point: `node dist/main.js [api|worker|all]` (or SAFELINE_ROLE).
 * Configuration is validated before anything connects.
 */
function loadConfig(argv: string[]): Config {
  const env = readEnvironment();
  try {
    const config = parseConfig({ ...env, SAFELINE_ROLE: argv[2] ?? env.SAFELINE_ROLE });
    if (!config.mongodbUri) {
      throw new ConfigError(
        ['MONGODB_URI'],
        'invalid configuration: MONGODB_URI is required (npm run dev starts a local server when it is not set)',
      );
    }
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`safeline: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

const config = loadConfig(process.argv);
const logger = createLogger({ level: config.logLevel });
void runUntilSignal(logger, config, () => startSafeline(config, logger, modules));
