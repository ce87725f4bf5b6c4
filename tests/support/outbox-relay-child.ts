// A relay in a process of its own, for tests/ussd/outbox-relay.test.ts: it takes a batch from the
// outbox, says so on stdout and then hangs before Bull has it, waiting to be killed.
import { createLogger } from '../../src/platform/logger';
import type { TypedQueue } from '../../src/platform/queues';
import { createRedisConnections } from '../../src/platform/redis';
import type { FlowEventJob } from '../../src/ussd/apply-flow-events';
import { startOutboxRelay } from '../../src/ussd/outbox-relay';

const [redisUrl = '', outboxKey = ''] = process.argv.slice(2);
const logger = createLogger({ level: 'silent' });
const redis = createRedisConnections(redisUrl, logger);
const hanging = {
  addBulk: () => {
    process.stdout.write('taken\n');
    return new Promise(() => undefined);
  },
} as unknown as TypedQueue<FlowEventJob>;
startOutboxRelay(redis.client, outboxKey, hanging, logger, { aliveMs: 1_000 });
