import { createHash, createHmac, randomBytes } from 'node:crypto';
import { secretMatches } from '../shared/secret-compare';

/** The cookie that marks a browser that signed in to an account before. */
export const DEVICE_COOKIE = 'sl_device';
export const DEVICE_COOKIE_DAYS = 180;

/**
 * Device cookies (after OWASP's "device cookies" against online guessing): a successful sign-in
 * gives the browser a signed cookie naming a random device id and the account, so its later
 * sign-ins are throttled on their own and not with the strangers guessing at the same account.
 * The signature is an HMAC with a key derived from an existing secret (PHONE_HASH_KEY); a cookie
 * made for another account, altered or older than DEVICE_COOKIE_DAYS names no device.
 */
export function createLoginDevices(secret: string, now: () => number = Date.now) {
  const key = createHmac('sha256', Buffer.from(secret, 'base64')).update('safeline login device cookie v1').digest();
  const account = (email: string): string => createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
  const sign = (email: string, device: string, issued: string): string =>
    createHmac('sha256', key).update(`${account(email)}:${device}:${issued}`).digest('base64url');
  return {
    /** A new cookie value for a browser that has just signed in to this account. */
    issue(email: string): string {
      const device = randomBytes(16).toString('base64url');
      const issued = String(Math.floor(now() / 1_000));
      return `${device}.${issued}.${sign(email, device, issued)}`;
    },
    /** The device id a cookie names for this account, or undefined. */
    deviceOf(cookie: string | undefined, email: string): string | undefined {
      const [device, issued, mac, extra] = (cookie ?? '').split('.');
      if (!device || !issued || !mac || extra !== undefined || !/^\d{1,12}$/.test(issued)) return undefined;
      if (now() / 1_000 - Number(issued) > DEVICE_COOKIE_DAYS * 86_400) return undefined;
      return secretMatches(mac, sign(email, device, issued)) ? device : undefined;
    },
  };
}

export type LoginDevices = ReturnType<typeof createLoginDevices>;
