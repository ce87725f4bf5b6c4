import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Environment } from '../../src/config/config';
import { freePort } from '../../src/dev-services/free-port';
import type { Logger } from '../../src/platform/logger';
import type { RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { eventually } from './eventually';
import { startWithManager } from './fake-gateway-env';
import { startKannel, type RunningKannel } from '../../src/dev-services/kannel';
import { startSmscSimulator, type ReceivedSms, type SmscSimulator } from '../../src/dev-services/smpp-simulator';
import { staffClient } from './staff-client';
import { testConfig, testServices } from './test-env';

/**
 * Two operators through one Kannel, for a test file: Orange Mali (+2237) over the "orange" bind, Moov Africa
 * Malitel (+2236) over "moov", each an SMSC simulator and a route of SMS_ROUTES_FILE (as operator-routes.test.ts
 * writes it). Started before the file's tests with a signed-in campaign manager, stopped after them.
 */
export interface TwoOperators {
  orange: SmscSimulator;
  moov: SmscSimulator;
  kannel: RunningKannel;
  running: RunningSafeline;
  protection: PhoneProtection;
  manager: ReturnType<typeof staffClient>;
}

/** Kannel's Count key has no lifetime of its own: a test's table goes with the test. */
async function deleteDlrTable(table: string): Promise<void> {
  const redis = new Redis(testServices().redisUrl, { db: 1 });
  const keys = await redis.keys(`${table}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

export const ALWAYS = { from: '00:00', to: '00:00' };

interface TwoOperatorsOptions {
  perSecond: { orange: number; moov: number };
  env?: Environment;
  logger: Logger;
  name: string;
  /** bearerbox keeps its receipts map in Redis (database 1, a table of this run's own), not in memory. */
  dlrInRedis?: boolean;
}

export function twoOperators(options: TwoOperatorsOptions): TwoOperators {
  const bed = { manager: staffClient(() => bed.running.url) } as TwoOperators;
  let dlrTable: string | undefined;
  beforeAll(async () => {
    [bed.orange, bed.moov] = await Promise.all([startSmscSimulator({ name: 'orange', receiptDelayMs: 20 }), startSmscSimulator({ name: 'moov', receiptDelayMs: 20 })]);
    const port = await freePort();
    const token = randomBytes(16).toString('hex');
    const dir = join(testServices().scratch, `${options.name}-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const moUrl = `http://127.0.0.1:${port}/sms/kannel/inbound?token=${token}&from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I`;
    const redis = new URL(testServices().redisUrl);
    dlrTable = options.dlrInRedis ? `kannel-dlr-${options.name}-${process.pid}` : undefined;
    const dlrRedis = dlrTable
      ? { host: redis.hostname, port: Number(redis.port || 6379), database: 1, table: dlrTable, ttlSeconds: 600 }
      : undefined;
    bed.kannel = await startKannel({ smscs: [bed.orange, bed.moov], moUrl, dir: join(dir, 'kannel'), dlrRedis });
    const routesFile = join(dir, 'routes.yaml');
    const routes = [
      { name: 'orange', operator: 'Orange Mali', prefix: '+2237', perSecond: options.perSecond.orange, price: 20, sender: 'ORANGEML' },
      { name: 'moov', operator: 'Moov Africa Malitel', prefix: '+2236', perSecond: options.perSecond.moov, price: 30, sender: '36000' },
    ];
    writeFileSync(routesFile, ['routes:', ...routes.flatMap((route) => [
      `  - name: ${route.name}`,
      `    operator: ${route.operator}`,
      `    prefixes: ["${route.prefix}"]`,
      '    gateway: kannel',
      `    smsc: ${route.name}`,
      `    max_per_second: ${route.perSecond}`,
      `    price_per_part: ${route.price}`,
      `    sender_id: "${route.sender}"`,
    ]), ''].join('\n'));
    const config = testConfig({
      SMS_ROUTES_FILE: routesFile,
      KANNEL_SENDSMS_URL: bed.kannel.sendsmsUrl,
      KANNEL_USERNAME: bed.kannel.username,
      KANNEL_PASSWORD: bed.kannel.password,
      KANNEL_ADMIN_URL: bed.kannel.adminUrl,
      KANNEL_ADMIN_PASSWORD: bed.kannel.adminPassword,
      SMS_CALLBACK_TOKEN: token,
      SMS_MAX_PER_SECOND: String(options.perSecond.orange + options.perSecond.moov),
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...options.env,
    });
    bed.running = await startWithManager(config, options.logger);
    expect((await bed.manager.signIn('manager@safeline.test')).status).toBe(200);
    bed.protection = createPhoneProtection(config.secrets);
  }, 60_000);
  afterAll(async () => {
    await bed.running?.stop();
    await bed.kannel?.stop();
    await Promise.all([bed.orange?.close(), bed.moov?.close()]);
    if (dlrTable) await deleteDlrTable(dlrTable);
  });
  return bed;
}

export type Progress = { recipients: number; sent: number; delivered: number; failedDelivery: number; failed: number; unknown: number; optedOut: number; cancelled: number };
export type CampaignView = { status: string; progress: Progress };

/** Creates and schedules a campaign to a region, always inside its send window; returns its id. */
export async function scheduleCampaign(bed: TwoOperators, name: string, region: string, text: string): Promise<string> {
  const created = await bed.manager.call('POST', '/api/v1/campaigns', { axis: 'prevention', sendWindow: ALWAYS, name, texts: { fr: text }, audience: { regions: [region] } });
  expect(created.status).toBe(200);
  const id = String(created.json._id);
  expect((await bed.manager.call('POST', `/api/v1/campaigns/${id}/schedule`)).status).toBe(200);
  return id;
}

export const viewCampaign = async (bed: TwoOperators, id: string): Promise<CampaignView> => (await bed.manager.call('GET', `/api/v1/campaigns/${id}`)).json as unknown as CampaignView;

export const waitCampaign = (bed: TwoOperators, id: string, ok: (view: CampaignView) => boolean, timeoutMs: number): Promise<CampaignView> =>
  eventually(() => viewCampaign(bed, id), ok, timeoutMs);

/** How many times each number (as the SMSC saw it, no "+") received this text. */
export function timesReceived(received: readonly ReceivedSms[], text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sms of received) if (sms.text === text) counts.set(sms.to, (counts.get(sms.to) ?? 0) + 1);
  return counts;
}
