import type { Config } from './config/config';
import type { Logger } from './platform/logger';

interface Stoppable {
  stop(): Promise<void>;
}

/** Starts something, then on SIGTERM or SIGINT stops it and exits 0 (1 if stopping fails or overruns). */
export async function runUntilSignal(
  logger: Logger,
  config: Config,
  start: () => Promise<Stoppable>,
  cleanup?: () => Promise<void>,
): Promise<void> {
  let running: Stoppable;
  try {
    running = await start();
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await cleanup?.();
    process.exit(1);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received');
    const deadline = setTimeout(() => {
      logger.error('shutdown overran its deadline');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    running
      .stop()
      .then(() => cleanup?.())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
