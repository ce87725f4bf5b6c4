import { Router } from 'express';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<void>;

/** GET /healthz (process up), /readyz (every dependency answers), /metrics (Prometheus text). */
export function healthRoutes(checks: Readonly<Record<string, ReadinessCheck>>, registry: Registry): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([part, check]) => {
        try {
          await check();
          return [part, 'up'] as const;
        } catch (err) {
          return [part, `down: ${err instanceof Error ? err.message : String(err)}`] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state !== 'up').map(([part]) => part);
    res.status(down.length ? 503 : 200).json({
      status: down.length ? 'unavailable' : 'ready',
      ...(down.length ? { down } : {}),
      checks: Object.fromEntries(results),
    });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  return router;
}
