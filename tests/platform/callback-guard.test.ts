import { ConfigError, parseConfig } from '../../src/config/config';
import { addressBucket } from '../../src/platform/callback-guard';
import { testEnvironment } from '../support/test-env';

describe('addressBucket', () => {
  it('counts IPv4 by address and IPv6 by its /64, whatever its spelling', () => {
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
  });
});

describe('CALLBACK_ALLOWED_IPS', () => {
  it('takes addresses and CIDR blocks of both families, and names the variable when one is wrong', () => {
    const config = parseConfig(testEnvironment({ CALLBACK_ALLOWED_IPS: '196.201.214.0/24, 2001:db8::/32,10.1.2.3' }));
    expect(config.callbacks.allowedIps).toEqual(['196.201.214.0/24', '2001:db8::/32', '10.1.2.3']);
    expect(parseConfig(testEnvironment({})).callbacks.allowedIps).toEqual([]);
    for (const wrong of ['example.org', '10.0.0.0/33', '10.0.0.1/8/1', '2001:db8::/129', '10.0.0.1,']) {
      expect(() => parseConfig(testEnvironment({ CALLBACK_ALLOWED_IPS: wrong }))).toThrow(ConfigError);
      expect(() => parseConfig(testEnvironment({ CALLBACK_ALLOWED_IPS: wrong }))).toThrow(/CALLBACK_ALLOWED_IPS/);
    }
  });
});
