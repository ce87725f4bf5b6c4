import type { Environment } from '../../src/config/config';
import type { Logger } from '../../src/platform/logger';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { startFakeAfricasTalking, type FakeAfricasTalking } from './fake-africastalking';
import { createStaff, staffClient } from './staff-client';
import { testConfig } from './test-env';

/** A test config whose SMS go to the fake Africa's Talking over real HTTP, with no rate ceiling. */
export const fakeGatewayConfig = (fake: FakeAfricasTalking, overrides: Environment = {}) =>
  testConfig({ SMS_GATEWAY: 'africastalking', AT_USERNAME: fake.username, AT_API_KEY: fake.apiKey, AT_BASE_URL: fake.url, SMS_MAX_PER_SECOND: '100000', LOG_LEVEL: 'info', ...overrides });

/** safeline with every module and a campaign manager's account, manager@safeline.test. */
export async function startWithManager(config: ReturnType<typeof testConfig>, logger: Logger): Promise<RunningSafeline> {
  const running = await startSafeline(config, logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
  return running;
}

export interface ManagerOnFakeGateway {
  fake: FakeAfricasTalking;
  running: RunningSafeline;
  protection: PhoneProtection;
  /** Signed in as manager@safeline.test before the first test. */
  manager: ReturnType<typeof staffClient>;
}

/**
 * For a test file: before its tests, the fake Africa's Talking and safeline on it with a signed-in
 * campaign manager; after them, both stopped. The fields are filled in by the time a test runs.
 */
export function managerOnFakeGateway(options: { seed: number; env?: Environment; logger: Logger }): ManagerOnFakeGateway {
  const bed = { manager: staffClient(() => bed.running.url) } as ManagerOnFakeGateway;
  beforeAll(async () => {
    bed.fake = await startFakeAfricasTalking({ transientRate: 0, seed: options.seed });
    bed.running = await startWithManager(fakeGatewayConfig(bed.fake, options.env), options.logger);
    expect((await bed.manager.signIn('manager@safeline.test')).status).toBe(200);
    bed.protection = createPhoneProtection(bed.running.infra.config.secrets);
  }, 60_000);
  afterAll(async () => {
    await bed.running?.stop();
    await bed.fake?.close();
  });
  return bed;
}
