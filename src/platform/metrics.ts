import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestHandler } from 'express';
import type { QueueFactory } from './queues';
import { withTimeout } from './with-timeout';

export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  httpMiddleware(): RequestHandler;
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const;

/** A registry of its own per process (no prom-client global), so tests can build many apps side by side. */
export function createMetrics(queues: QueueFactory): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'safeline_' });

  const httpDuration = new Histogram({
    name: 'safeline_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Gauge({
    name: 'safeline_queue_jobs',
    help: 'Jobs in each Bull queue by state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.all().map(async (queue) => {
          // A scrape must answer even while Redis is down: leave the queue out rather than hang.
          const counts = await withTimeout(queue.getJobCounts(), 500, 'queue counts').catch(() => undefined);
          if (!counts) return;
          const byState = counts as unknown as Record<string, number>;
          for (const state of JOB_STATES) this.set({ queue: queue.name, state }, byState[state] ?? 0);
        }),
      );
    },
  });

  return {
    registry,
    httpDuration,
    httpMiddleware() {
      return (req, res, next) => {
        const end = httpDuration.startTimer();
        res.on('finish', () => {
          // The route template, never the raw path: ids and tokens must not become label values.
          const route = (req.route as { path?: string } | undefined)?.path;
          const template = route ? `${req.baseUrl}${route}` : 'unmatched';
          end({ method: req.method, route: template, status: String(res.statusCode) });
        });
        next();
      };
    },
  };
}
