import { generateSecrets } from '../../src/config/generated-secrets';
import { parseConfig } from '../../src/config/config';
import { createPhoneProtection } from '../../src/shared/phone-protection';

const protection = createPhoneProtection(parseConfig(generateSecrets()).secrets);

describe('sealed phone numbers (AES-256-GCM)', () => {
  it('opens what it sealed, and refuses a tampered ciphertext', () => {
    const sealed = protection.encrypt('+22370000001');
    expect(protection.decrypt(sealed)).toBe('+22370000001');
    const [id, iv, tag, data = ''] = sealed.split(':');
    const flipped = Buffer.from(data, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => protection.decrypt([id, iv, tag, flipped.toString('base64')].join(':'))).toThrow();
  });

  it('refuses a truncated authentication tag, even one that is a prefix of the right tag', () => {
    const sealed = protection.encrypt('+22370000002');
    const [id, iv, tag = '', data] = sealed.split(':');
    for (const bytes of [4, 8, 12, 15]) {
      const short = Buffer.from(tag, 'base64').subarray(0, bytes).toString('base64');
      expect(() => protection.decrypt([id, iv, short, data].join(':'))).toThrow(/16 bytes/);
    }
  });
});
