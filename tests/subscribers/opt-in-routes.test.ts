import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection, type PhoneProtection } from '../../src/shared/phone-protection';
import { createSubscriberStore } from '../../src/subscribers/subscriber-store';
import { ussdModule } from '../../src/ussd/ussd-module';
import { eventually } from '../support/eventually';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig, testServices } from '../support/test-env';

/** USSD's "subscribe" with a routes file that covers Orange's +2237 only: another number is not subscribed, and nothing fails. */
const { logger, lines } = captureLogger('info');
let running: RunningSafeline;
let protection: PhoneProtection;
let token: string;

beforeAll(async () => {
  const dir = join(testServices().scratch, `opt-in-routes-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const routesFile = join(dir, 'routes.yaml');
  writeFileSync(
    routesFile,
    'routes:\n  - name: orange\n    operator: Orange Mali\n    prefixes: ["+2237"]\n' +
      '    gateway: emulator\n    max_per_second: 10\n    price_per_part: 20\n',
  );
  const config = testConfig({ SMS_ROUTES_FILE: routesFile, LOG_LEVEL: 'info' });
  token = config.ussd.callbackToken;
  running = await startSafeline(config, logger, [ussdModule]);
  await running.infra.mongo.opened;
  protection = createPhoneProtection(config.secrets);
});
afterAll(() => running.stop());

/** A first call: the language, then Alerts > Receive SMS on > the law. */
async function subscribeByUssd(phone: string): Promise<string> {
  const call = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  await call.dial();
  for (const input of ['1', '4', '1']) expect((await call.type(input)).body).toMatch(/^CON /);
  return (await call.type('2')).body;
}

it('subscribes a covered number with its block, and not one no route covers (the caller still gets the last screen)', async () => {
  const subscribers = createSubscriberStore(running.infra.mongo.connection);
  expect(await subscribeByUssd('+22370000301')).toMatch(/^END .*vous recevrez des SMS/);
  const covered = await eventually(() => subscribers.find(protection.hash('+22370000301')), (s) => s?.consent.status === 'opted_in');
  expect(covered).toMatchObject({ numberBlock: '+22370', topics: ['law'] });

  expect(await subscribeByUssd('+22366000301')).toMatch(/^END /);
  await eventually(
    () => Promise.resolve(lines().filter((line) => line.includes('ussd subscription not recorded: no SMS route covers the number'))),
    (found) => found.length === 1,
  );
  expect(await subscribers.find(protection.hash('+22366000301'))).toBeUndefined();
  expect(lines().join('\n')).not.toContain('66000301');
});
