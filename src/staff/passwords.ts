import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scryptAsync = (password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));

// OWASP's scrypt floor in its 32 MiB form: N=2^15, r=8, p=3 is listed as equivalent to N=2^17, r=8, p=1
// (the p passes run one after the other in the same 128*N*r bytes). N=2^17 took 128 MiB per hash, at the
// api's start (the dummy hash) and per sign-in: half the api's memory goal, and four parallel sign-ins
// (libuv's four threads) 512 MiB. Hashes keep their parameters: older ones still verify.
// Tests may lower N through the hash they store.
const N = 2 ** 15;
const R = 8;
const P = 3;
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
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: cost,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * cost * Number(r),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash to compare against when the account does not exist, so both cases take the same time.
 * Made once, when the login is set up (not when this file is imported: a scrypt would outlive a short script).
 */
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword('not a real password'));
