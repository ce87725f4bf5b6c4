import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { captureLogger, testConfig } from '../support/test-env';

describe('health, readiness and metrics against real MongoDB and Redis', () => {
  let running: RunningSafeline;

  beforeAll(async () => {
    running = await startSafeline(testConfig(), captureLogger('warn').logger, []);
    await running.infra.mongo.opened;
  });
  afterAll(() => running.stop());

  it('GET /healthz answers while the process is up', async () => {
    const res = await fetch(`${running.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  const withToken = () => ({ authorization: `Bearer ${running.infra.config.metricsToken ?? ''}` });

  it('GET /readyz is 200 when MongoDB and Redis answer, and names its parts only to the holder of METRICS_TOKEN', async () => {
    const res = await fetch(`${running.url}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready' });
    expect(res.status).toBe(200);
    const wrong = await fetch(`${running.url}/readyz`, { headers: { authorization: 'Bearer not-the-metrics-token' } });
    expect(await wrong.json()).toEqual({ status: 'ready' });
    const detailed = await fetch(`${running.url}/readyz`, { headers: withToken() });
    expect(await detailed.json()).toEqual({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } });
  });

  it('GET /metrics needs the bearer token', async () => {
    const anonymous = await fetch(`${running.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await anonymous.text()).not.toContain('safeline_');
    expect((await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } })).status).toBe(401);
    expect((await fetch(`${running.url}/metrics`, { headers: { authorization: running.infra.config.metricsToken ?? '' } })).status).toBe(401);
  });

  it('GET /metrics exposes request latency and queue depths in Prometheus text', async () => {
    const queue = running.infra.queues.create<{ n: number }>('metrics-probe');
    await queue.add({ n: 1 });
    await queue.add({ n: 2 }, { delay: 60_000 });
    await fetch(`${running.url}/healthz`);

    const res = await fetch(`${running.url}/metrics`, { headers: withToken() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/safeline_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toContain('safeline_queue_jobs{queue="metrics-probe",state="waiting"} 1');
    expect(text).toContain('safeline_queue_jobs{queue="metrics-probe",state="delayed"} 1');
    expect(text).toContain('safeline_process_resident_memory_bytes');
  });

  it('answers unknown paths and malformed JSON with a JSON 4xx, not a 500', async () => {
    const missing = await fetch(`${running.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'Not found' } });
  });
});

describe('without METRICS_TOKEN', () => {
  it('serves no metrics at all, and still answers the probes', async () => {
    const running = await startSafeline(testConfig({ METRICS_TOKEN: '' }), captureLogger('warn').logger, []);
    try {
      expect(running.infra.config.metricsToken).toBeUndefined();
      expect((await fetch(`${running.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer ' } })).status).toBe(404);
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});
