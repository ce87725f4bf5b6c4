import { randomBytes, scryptSync } from 'node:crypto';
import { hashPassword, verifyPassword } from '../../src/staff/passwords';

/**
 * A password hash costs 128*N*r bytes for as long as it runs, at the api's start (the dummy hash) and at
 * every sign-in, up to four at once. OWASP's scrypt settings are equivalent; the 32 MiB one keeps the api
 * under its memory goal (#12 item 5: 256 MB) where N=2^17 alone took 128 MiB.
 */
const OWASP_EQUIVALENT = ['131072/8/1', '65536/8/2', '32768/8/3', '16384/8/5', '8192/8/10'];

it('hashes with OWASP-equivalent scrypt settings that need at most 32 MiB', async () => {
  const [scheme, n, r, p] = (await hashPassword('correct horse battery staple')).split('$');
  expect(scheme).toBe('scrypt');
  expect(OWASP_EQUIVALENT).toContain(`${n}/${r}/${p}`);
  expect(128 * Number(n) * Number(r)).toBeLessThanOrEqual(32 * 1_048_576);
});

it('still verifies a hash stored with other settings: they travel with it', async () => {
  const salt = randomBytes(16);
  const key = scryptSync('an older password', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
  const stored = ['scrypt', 2 ** 14, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
  expect(await verifyPassword('an older password', stored)).toBe(true);
  expect(await verifyPassword('not it', stored)).toBe(false);
});
