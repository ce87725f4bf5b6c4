import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { AppError } from './app-error';
import { healthRoutes, type ReadinessCheck } from './health-routes';

export interface AppDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** What each room contributes, mounted in order after the health routes. */
  readonly routers?: ReadonlyArray<Router>;
  readonly trustProxy?: boolean | number | string;
  /** Bearer token of /metrics and of /readyz's details (see health-routes). */
  readonly metricsToken?: string;
}

/** Builds the Express app without listening: tests and the entry point both use it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 'loopback');
  app.use(deps.metrics.httpMiddleware());
  app.use(
    healthRoutes(deps.readiness, deps.metrics.registry, {
      logger: deps.logger,
      ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
    }),
  );
  for (const router of deps.routers ?? []) app.use(router);

  app.use((_req, _res, next) => next(AppError.notFound()));

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const known =
      err instanceof AppError
        ? err
        : isHttpClientError(err)
          ? new AppError(err.status, 'bad_request', 'Malformed request', { cause: err })
          : new AppError(500, 'internal', 'Internal error', { cause: err });
    if (known.status >= 500) deps.logger.error({ err, method: req.method, route: req.baseUrl }, 'request failed');
    if (res.headersSent) return;
    res.status(known.status).json({ error: { code: known.code, message: known.message } });
  };
  app.use(onError);
  return app;
}

/** body-parser and friends raise errors that carry a 4xx status of their own. */
function isHttpClientError(err: unknown): err is { status: number } {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
