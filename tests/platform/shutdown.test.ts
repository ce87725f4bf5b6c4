import { Router } from 'express';
import { startSafeline, type SafelineModule } from '../../src/safeline';
import { startArtifact } from '../support/production-artifact';
import { captureLogger, testConfig, testEnvironment } from '../support/test-env';

describe('graceful shutdown', () => {
  it('finishes the request and the job in flight, then closes everything', async () => {
    let releaseRequest: () => void = () => undefined;
    let jobStarted: () => void = () => undefined;
    const jobRunning = new Promise<void>((resolve) => (jobStarted = resolve));
    const slowModule: SafelineModule = {
      name: 'slow',
      routers: () => {
        const router = Router();
        router.get('/slow', (_req, res) => {
          releaseRequest = () => res.json({ finished: true });
        });
        return [router];
      },
      startWorkers: (infra) => {
        void infra.queues.create<{ ms: number }>('slow-jobs').process(async (job) => {
          jobStarted();
          await new Promise((resolve) => setTimeout(resolve, job.data.ms));
          return 'done';
        });
      },
    };
    const running = await startSafeline(testConfig(), captureLogger('warn').logger, [slowModule]);
    await running.infra.mongo.opened;
    const job = await running.infra.queues.create<{ ms: number }>('slow-jobs').add({ ms: 1_500 });
    await jobRunning;
    const request = fetch(`${running.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    const stopped = running.stop();
    // New connections are refused once stop() began.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
    releaseRequest();
    expect(await (await request).json()).toEqual({ finished: true });
    await stopped;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await job.getState().catch(() => 'closed')).toBe('closed');
    expect(running.infra.redis.client.status).toBe('end');
    expect(running.infra.mongo.connection.readyState).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('the production entry point exits 0 within 10 s on %s', async (signal) => {
    const { child, url, output } = await startArtifact('all', testEnvironment({}, 'main'));
    for (let ready = false; !ready; ) {
      ready = (await fetch(`${url}/readyz`)).status === 200;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const exited = new Promise<{ code: number | null; ms: number }>((resolve) => {
      const sent = Date.now();
      child.once('exit', (code) => resolve({ code, ms: Date.now() - sent }));
    });
    child.kill(signal);
    const { code, ms } = await exited;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(output()).toContain('"msg":"stopped"');
  }, 240_000);
});
