import type { ChildProcess } from 'node:child_process';
import { parseConfig, type Environment } from '../../src/config/config';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import { productionArtifact, startArtifact } from './production-artifact';
import { startFakeAfricasTalking, type FakeAfricasTalking, type FakeAfricasTalkingOptions } from './fake-africastalking';
import { createStaff, staffClient } from './staff-client';
import { captureLogger, testEnvironment } from './test-env';

export interface KillableWorkersBed {
  fake: FakeAfricasTalking;
  /** The api, in the test's process; the workers are separate processes. */
  api: RunningSafeline;
  env: Environment;
  /** Signed in as manager@safeline.test before the first test. */
  manager: ReturnType<typeof staffClient>;
  /** A worker as deployed (the built artifact's `node dist/main.js worker`), killed with SIGKILL after the file if alive. */
  startWorker(): Promise<ChildProcess>;
}

/**
 * For a test file that kills workers: before its tests, the fake Africa's Talking, the api with a signed-in
 * campaign manager and the production artifact built; after them, every worker left killed and both stopped.
 */
export function killableWorkers(options: { label: string; gateway?: FakeAfricasTalkingOptions; env?: Environment }): KillableWorkersBed {
  const workers: ChildProcess[] = [];
  const bed = { manager: staffClient(() => bed.api.url) } as KillableWorkersBed;
  bed.startWorker = async () => {
    const { child } = await startArtifact('worker', { ...bed.env, PORT: '0' });
    workers.push(child);
    return child;
  };
  beforeAll(async () => {
    bed.fake = await startFakeAfricasTalking(options.gateway);
    const gateway = {
      SMS_GATEWAY: 'africastalking', AT_USERNAME: bed.fake.username, AT_API_KEY: bed.fake.apiKey, AT_BASE_URL: bed.fake.url,
    };
    bed.env = testEnvironment(
      { LOG_LEVEL: 'warn', ...gateway, SMS_MAX_PER_SECOND: '100000', SHUTDOWN_TIMEOUT_MS: '3000', ...options.env },
      options.label,
    );
    bed.api = await startSafeline(parseConfig({ ...bed.env, SAFELINE_ROLE: 'api' }), captureLogger('warn').logger, modules);
    await bed.api.infra.mongo.opened;
    await createStaff(createStaffStore(bed.api.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
    expect((await bed.manager.signIn('manager@safeline.test')).status).toBe(200);
    await productionArtifact();
  }, 240_000);
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await bed.api?.stop();
    await bed.fake?.close();
  });
  return bed;
}
