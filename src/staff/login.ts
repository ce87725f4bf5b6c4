import type { AuditLog } from './audit-log';
import type { LoginDevices } from './login-devices';
import type { LoginThrottle } from './login-throttle';
import { dummyHash, verifyPassword } from './passwords';
import type { StaffSession, StaffSessions } from './staff-sessions';
import { profileOf, type StaffProfile, type StaffStore } from './staff-store';

export type LoginResult =
  | {
      readonly kind: 'signed-in';
      readonly sessionId: string;
      readonly session: StaffSession;
      readonly user: StaffProfile;
      /** Marks this browser as one that signed in to the account (see LoginDevices). */
      readonly deviceCookie: string;
    }
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number }
  | { readonly kind: 'refused' };

export interface LoginDeps {
  readonly users: StaffStore;
  readonly sessions: StaffSessions;
  readonly throttle: LoginThrottle;
  readonly devices: LoginDevices;
  readonly audit: AuditLog;
}

/** Only something shaped like an address is kept, masked: a password typed in the wrong field must not land in the log. */
const maskEmail = (email: string): string =>
  /^[^@\s]+@[^@\s]+$/.test(email.trim()) ? email.trim().replace(/^(.).*(@.*)$/, '$1***$2') : '[not an email address]';

/**
 * A staff member signs in. One answer for a wrong password, an unknown or a disabled account, in
 * the same time; failures slow down the client that makes them (see LoginThrottle); a success gets
 * a new session id and a device cookie, so this browser is known to the account next time.
 */
export async function login(
  deps: LoginDeps,
  input: { email: string; password: string; ip: string; deviceCookie?: string; previousSessionId?: string },
): Promise<LoginResult> {
  const client = { email: input.email, ip: input.ip, device: deps.devices.deviceOf(input.deviceCookie, input.email) };
  const retryAfterSeconds = await deps.throttle.attempt(client);
  if (retryAfterSeconds > 0) {
    await deps.audit.append({ actor: 'anonymous', action: 'login.throttled', ip: input.ip, details: { email: maskEmail(input.email) } });
    return { kind: 'throttled', retryAfterSeconds };
  }
  const user = await deps.users.findForLogin(input.email);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !matches || user.disabled) {
    await deps.audit.append({
      actor: user?._id ?? 'anonymous',
      action: 'login.failed',
      ip: input.ip,
      details: { email: maskEmail(input.email) },
    });
    return { kind: 'refused' };
  }
  await deps.throttle.succeeded(client);
  const { id, session } = await deps.sessions.create(user._id, input.previousSessionId);
  await deps.audit.append({ actor: user._id, action: 'login', ip: input.ip });
  return { kind: 'signed-in', sessionId: id, session, user: profileOf(user), deviceCookie: deps.devices.issue(input.email) };
}
