import type { Environment } from '../../src/config/config';
import type { Logger } from '../../src/platform/logger';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import type { FakeAfricasTalking } from './fake-africastalking';
import { createStaff } from './staff-client';
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
