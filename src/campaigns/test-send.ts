import type Redis from 'ioredis';
import { AppError } from '../platform/app-error';
import type { PhoneProtection } from '../shared/phone-protection';
import type { AuditLog } from '../staff/audit-log';
import type { OptOutSet } from '../subscribers/optout-set';
import type { CampaignManagement } from './manage-campaigns';

/** Test sends a staff member may make in an hour: enough to check a text, too few to be a quiet campaign. */
export const TEST_SENDS_PER_HOUR = 10;
const HOUR_SECONDS = 3_600;
// One window per staff member: counted and given its lifetime in one step, so a crash cannot leave it immortal.
const COUNT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}`;

export interface TestSendRequest {
  campaignId: string;
  /** E.164 numbers. */
  phones: readonly string[];
  actor: string;
  ip: string;
}

/** Thrown past the hourly limit; the route answers 429 with Retry-After. */
export class TestSendLimited extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      429,
      'rate_limited',
      `At most ${TEST_SENDS_PER_HOUR} test sends an hour: try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`,
    );
  }
}

/**
 * A campaign's test send, the same from the API and the console: counted against the sender's
 * hourly limit, never to a number that opted out (a staff phone may have sent STOP too), audited.
 */
export function createTestSends(deps: {
  redis: Redis;
  prefix: string;
  management: Pick<CampaignManagement, 'testSend'>;
  optouts: OptOutSet;
  protection: PhoneProtection;
  audit: Pick<AuditLog, 'append'>;
}) {
  return async function testSend(request: TestSendRequest): Promise<{ queued: number; optedOut: number }> {
    const [count, ttl] = (await deps.redis.eval(COUNT, 1, `${deps.prefix}:test-send-rate:${request.actor}`, HOUR_SECONDS)) as [
      number,
      number,
    ];
    if (count > TEST_SENDS_PER_HOUR) throw new TestSendLimited(ttl > 0 ? ttl : HOUR_SECONDS);
    const optedOut = await deps.optouts.which(request.phones.map((phone) => deps.protection.hash(phone)));
    const phones = request.phones.filter((_, i) => !optedOut[i]);
    const queued = await deps.management.testSend(request.campaignId, phones);
    const left = request.phones.length - phones.length;
    await deps.audit.append({
      actor: request.actor,
      action: 'campaign.test_sent',
      target: request.campaignId,
      ip: request.ip,
      details: { messages: queued, numbers: phones.length, optedOut: left },
    });
    return { queued, optedOut: left };
  };
}

export type TestSend = ReturnType<typeof createTestSends>;
