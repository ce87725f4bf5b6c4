import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { ussdModule } from '../../src/ussd/ussd-module';
import { caller } from '../support/ussd-client';
import { captureLogger, testConfig } from '../support/test-env';

// Flows from tests/fixtures: a single free-text input that echoes what it received.
describe('free text on USSD', () => {
  let running: RunningSafeline;
  let token: string;
  const { logger, lines } = captureLogger('debug');

  beforeAll(async () => {
    const config = testConfig({ FLOWS_DIR: join(__dirname, '../fixtures/ussd-flows'), TEMPLATES_DIR: join(__dirname, '../fixtures/texts'), LOG_LEVEL: 'debug' });
    token = config.ussd.callbackToken;
    running = await startSafeline(config, logger, [ussdModule]);
  });
  afterAll(() => running.stop());

  it('keeps a "*" typed inside free text: only the new suffix of AT\'s text is the input', async () => {
    const call = caller(running.url, token, '+22370123456', `ATUid_${randomUUID()}`);
    expect((await call.dial()).body).toBe('CON Court');
    const reply = await call.type('rue 12*porte 3');
    expect(reply.body).toBe('END Noté: rue 12*porte 3');
  });

  it('takes 200 characters and emoji as text, and refuses what is over the limit', async () => {
    const long = caller(running.url, token, '+22370123457', `ATUid_${randomUUID()}`);
    await long.dial();
    const refused = await long.type('x'.repeat(200));
    expect(refused.body).toMatch(/^CON Saisie invalide\.\nCourt$/);
    const emoji = await long.type('🙏🏾 merci');
    expect(emoji.body).toBe('END Noté: 🙏🏾 merci');
  });

  it('never logs what was typed', () => {
    expect(lines().join('\n')).not.toMatch(/porte 3|merci|xxxxxxxx/);
  });
});
