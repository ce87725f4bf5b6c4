import { spawn } from 'node:child_process';
import { Router } from 'express';
import { startSafeline, type SafelineModule } from '../../src/safeline';
import { generateSecrets } from '../../src/config/generated-secrets';
import { captureLogger, testConfig, testServices, uniqueName, withDatabase } from '../support/test-env';

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

  it.each(['SIGTERM', 'SIGINT'] as const)('the entry point exits 0 within 10 s on %s', async (signal) => {
    const services = testServices();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts', 'all'], {
      env: {
        PATH: process.env.PATH,
        ...generateSecrets(),
        MONGODB_URI: withDatabase(services.mongodbUri, uniqueName('main')),
        REDIS_URL: services.redisUrl,
        QUEUE_PREFIX: uniqueName('main'),
        HOST: '127.0.0.1',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /"msg":"http: (http:\/\/[^ ]+)/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
    });
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
    expect(stdout).toContain('"msg":"stopped"');
  });
});
