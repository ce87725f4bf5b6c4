import { maskPhone, maskPhonesIn } from '../../src/shared/redact';
import { captureLogger } from '../support/test-env';

const PHONE = '+22376543210';
const TYPED = 'Mon oncle emmène ma fille à Kayes demain';

describe('the logger', () => {
  it('never writes a phone number or a message in clear, wherever they appear', () => {
    const { logger, lines } = captureLogger();
    logger.info({ phoneNumber: PHONE, text: TYPED }, 'ussd hop');
    logger.info({ session: { caller: { msisdn: '22376543210' } }, batch: [{ to: PHONE, message: TYPED }] }, 'nested');
    logger.warn(`callback requested by ${PHONE}`);
    logger.info({ detail: `reported from 76 54 32 10 and ${PHONE}` }, 'free text field');
    logger.error({ err: new Error(`gateway refused ${PHONE}`) }, 'send failed');
    const child = logger.child({ phone: PHONE });
    child.info('child logger');
    child.child({ recipient: PHONE, note: TYPED }).info('grandchild logger');

    const output = lines().join('\n');
    expect(lines()).toHaveLength(7);
    expect(output).not.toContain('76543210');
    expect(output).not.toContain('76 54 32 10');
    expect(output).not.toContain('emmène');
    expect(output).not.toContain('Kayes');
    // What remains is still useful: a masked number and the length of the text.
    expect(output).toContain('+223******10');
    expect(output).toContain(`[redacted text, ${[...TYPED].length} chars]`);
    expect(output).toContain('gateway refused');
  });

  it('leaves ids, counts and timestamps alone', () => {
    const { logger, lines } = captureLogger();
    logger.info({ campaignId: '65a1f0c2e4b0a1b2c3d4e5f6', recipients: 100000, at: 1764383910000 }, 'campaign 42 queued');
    const line = JSON.parse(lines()[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ campaignId: '65a1f0c2e4b0a1b2c3d4e5f6', recipients: 100000, at: 1764383910000, msg: 'campaign 42 queued' });
  });
});

describe('maskPhone', () => {
  it('keeps the country code and the last two digits', () => {
    expect(maskPhone('+22370000012')).toBe('+223******12');
    expect(maskPhone('70000012')).toBe('700***12');
    expect(maskPhonesIn('call 0022370000012 now')).toBe('call 002********12 now');
  });
});
