import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Config } from './config/config';
import { createApp } from './platform/app';
import type { ReadinessCheck } from './platform/health-routes';
import type { Logger } from './platform/logger';
import { connectMongo, describeMongoUri, type MongoHandle } from './platform/mongo';
import { createMetrics, type Metrics } from './platform/metrics';
import { createQueueFactory, type QueueFactory } from './platform/queues';
import { checkEvictionPolicy, createRedisConnections, describeRedisUrl, type RedisConnections } from './platform/redis';
import { withTimeout } from './platform/with-timeout';

/** What every room gets to build its routes and workers from. */
export interface Infrastructure {
  readonly config: Config;
  readonly logger: Logger;
  readonly mongo: MongoHandle;
  readonly redis: RedisConnections;
  readonly queues: QueueFactory;
  readonly metrics: Metrics;
  /** Registers work to stop at shutdown, after HTTP has drained and before Redis and MongoDB close. */
  onStop(stop: () => Promise<void>): void;
  /** Where this process's HTTP server listens, once it does (the SMS emulator posts its delivery reports there). */
  ownUrl(): string | undefined;
}

/**
 * A route served by Node's HTTP server itself, before Express: for the hottest callbacks, where
 * Express's routing and body parsing would cost more than the work. It must answer every request.
 */
export interface FastRoute {
  readonly method: 'POST' | 'GET';
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void;
}

/** A room plugs in here: its HTTP routes for the api role, its queue processors for the worker role. */
export interface SafelineModule {
  readonly name: string;
  routers?(infra: Infrastructure): Router[];
  fastRoutes?(infra: Infrastructure): FastRoute[];
  startWorkers?(infra: Infrastructure): void;
  /** Parts /readyz checks beyond MongoDB and Redis (a gateway), by name. */
  readiness?(infra: Infrastructure): Record<string, ReadinessCheck>;
}

export interface RunningSafeline {
  readonly infra: Infrastructure;
  /** Where the HTTP server listens (the worker role serves only health and metrics). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts one process of the given role. Connections are opened in the background: the
 * process serves /healthz at once and /readyz says which part is still missing.
 */
export async function startSafeline(config: Config, logger: Logger, modules: ReadonlyArray<SafelineModule>): Promise<RunningSafeline> {
  if (!config.mongodbUri) throw new Error('MONGODB_URI is required');
  const mongo = connectMongo(config.mongodbUri, logger);
  const redis = createRedisConnections(config.redisUrl, logger);
  void checkEvictionPolicy(redis.client, logger);
  const queues = createQueueFactory(redis, config.queuePrefix);
  const metrics = createMetrics(queues);
  const stopHooks: Array<() => Promise<void>> = [];
  const listening: { url?: string } = {};
  const infra: Infrastructure = {
    config,
    logger,
    mongo,
    redis,
    queues,
    metrics,
    onStop: (stop) => stopHooks.push(stop),
    ownUrl: () => listening.url,
  };

  const servesApi = config.role !== 'worker';
  const runsWorkers = config.role !== 'api';
  const readiness: Record<string, ReadinessCheck> = { mongodb: () => mongo.ping(), redis: () => redis.ping() };
  for (const module of modules) Object.assign(readiness, module.readiness?.(infra));
  const app = createApp({
    logger,
    metrics,
    readiness,
    trustProxy: config.http.trustProxy,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    routers: servesApi ? modules.flatMap((module) => module.routers?.(infra) ?? []) : [],
  });
  if (runsWorkers) for (const module of modules) module.startWorkers?.(infra);

  const fast = new Map(
    (servesApi ? modules.flatMap((module) => module.fastRoutes?.(infra) ?? []) : []).map((route) => [
      `${route.method} ${route.path}`,
      route,
    ]),
  );
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = fast.get(`${req.method ?? ''} ${q < 0 ? url : url.slice(0, q)}`);
    if (!route) return void app(req, res);
    const end = metrics.httpDuration.startTimer({ method: route.method, route: route.path });
    res.once('finish', () => end({ status: String(res.statusCode) }));
    route.handle(req, res, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  listening.url = url;

  logger.info({ role: config.role }, `role: ${config.role} (${[servesApi && 'api', runsWorkers && 'worker'].filter(Boolean).join(' + ')})`);
  logger.info(`mongodb: ${describeMongoUri(config.mongodbUri)}`);
  logger.info(`redis: ${describeRedisUrl(config.redisUrl)} (queue prefix "${config.queuePrefix}")`);
  const each = config.routes.map((route) => {
    const account = route.gateway === 'emulator'
      ? 'local emulator'
      : route.gateway === 'kannel' ? `Kannel, smsc ${route.smsc ?? ''}` : "Africa's Talking";
    return `${route.name} (${route.prefixes.join(', ')}): ${account}, ${route.maxPerSecond}/s`;
  });
  logger.info(`sms routes: ${each.join('; ')}`);
  const metricsNote = config.metricsToken ? ' with METRICS_TOKEN' : '; /metrics off: METRICS_TOKEN not set';
  logger.info(`http: ${url} (${servesApi ? 'api, ' : ''}/healthz /readyz /metrics${metricsNote})`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= shutdown(server, infra, stopHooks));
  return { infra, url, stop };
}

/** Stop accepting, let in-flight requests and jobs finish, then close Redis and MongoDB. */
async function shutdown(server: Server, infra: Infrastructure, stopHooks: ReadonlyArray<() => Promise<void>>): Promise<void> {
  const { logger, config } = infra;
  // Leave a margin inside the orchestrator's grace period for the closes that follow.
  const drainMs = Math.max(config.shutdownTimeoutMs - 2_000, 500);
  logger.info('shutting down: no new requests or jobs');
  const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await Promise.all([
    ...stopHooks.map((hook) =>
      withTimeout(hook(), drainMs, 'module stop').catch((err: unknown) => logger.warn({ err }, 'a module did not stop in time')),
    ),
    withTimeout(httpClosed, drainMs, 'http drain').catch((err: unknown) => {
      logger.warn({ err }, 'closing the requests still open');
      server.closeAllConnections();
    }),
    withTimeout(infra.queues.close(), drainMs, 'job drain').catch((err: unknown) => logger.warn({ err }, 'jobs still active at shutdown')),
  ]);
  await Promise.all([infra.redis.close(), infra.mongo.close()]);
  logger.info('stopped');
}
