import { Router, type Request } from 'express';
import type { Registry } from 'prom-client';
import { secretMatches } from '../shared/secret-compare';
import type { Logger } from './logger';

export type ReadinessCheck = () => Promise<void>;

export interface HealthOptions {
  /** Bearer token of /metrics and of /readyz's details; unset: /metrics is off. */
  readonly metricsToken?: string;
  readonly logger: Logger;
}

/**
 * GET /healthz (process up), /readyz (every dependency answers), /metrics (Prometheus text).
 * Anyone may probe, but only the holder of METRICS_TOKEN learns what runs behind: /readyz says
 * ready or not to anonymous callers, and names the part that is down only with the token (the log
 * names it too, once when it goes down and once when it is back).
 */
export function healthRoutes(checks: Readonly<Record<string, ReadinessCheck>>, registry: Registry, options: HealthOptions): Router {
  const router = Router();
  const wasDown = new Set<string>();
  const authorized = (req: Request): boolean => {
    const token = options.metricsToken;
    const header = req.headers.authorization ?? '';
    return Boolean(token) && header.startsWith('Bearer ') && secretMatches(header.slice('Bearer '.length), token ?? '');
  };

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([part, check]) => {
        try {
          await check();
          if (wasDown.delete(part)) options.logger.info({ part }, `readiness: ${part} is back`);
          return [part, 'up'] as const;
        } catch (err) {
          if (!wasDown.has(part)) options.logger.warn({ part, err }, `readiness: ${part} is down`);
          wasDown.add(part);
          return [part, `down: ${err instanceof Error ? err.message : String(err)}`] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state !== 'up').map(([part]) => part);
    const status = down.length ? 'unavailable' : 'ready';
    res
      .status(down.length ? 503 : 200)
      .json(authorized(req) ? { status, ...(down.length ? { down } : {}), checks: Object.fromEntries(results) } : { status });
  });

  router.get('/metrics', async (req, res) => {
    if (!options.metricsToken) {
      res.status(404).json({ error: { code: 'not_found', message: 'Metrics are off: set METRICS_TOKEN' } });
      return;
    }
    if (!authorized(req)) {
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="metrics"')
        .json({ error: { code: 'unauthorized', message: 'Bearer METRICS_TOKEN required' } });
      return;
    }
    res.type(registry.contentType).send(await registry.metrics());
  });

  return router;
}
