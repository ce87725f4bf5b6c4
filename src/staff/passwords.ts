import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scryptAsync = (password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));

// OWASP's scrypt floor (N=2^17, r=8, p=1) with memory to match; tests may lower N through the hash they store.
const N = 2 ** 17;
const R = 8;
const P = 1;
const LENGTH = 32;

/** "scrypt$N$r$p$salt$hash" (base64): the parameters travel with the hash, so they can grow later. */
export async function hashPassword(password: string, cost = N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, LENGTH, { N: cost, r: R, p: P, maxmem: 256 * cost * R });
  return ['scrypt', cost, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const cost = Number(n);
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: cost, r: Number(r), p: Number(p), maxmem: 256 * cost * Number(r) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash to compare against when the account does not exist, so both cases take the same time.
 * Made once, when the login is set up (not when this file is imported: a scrypt would outlive a short script).
 */
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword('not a real password'));
