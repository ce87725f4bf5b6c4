import type { Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import { SESSION_COOKIE, cookiesOf } from './access';
import type { ApiRegistry } from './api-registry';
import type { AuditLog } from './audit-log';
import { login, type LoginDeps } from './login';
import { DEVICE_COOKIE, DEVICE_COOKIE_DAYS } from './login-devices';
import { hashPassword, verifyPassword } from './passwords';
import { ROLES } from './roles';

const credentials = z.strictObject({ email: z.string().trim().email().max(200), password: z.string().min(1).max(200) });
const passwordChange = z.strictObject({ current: z.string().min(1).max(200), next: z.string().min(12, 'at least 12 characters').max(200) });
const auditQuery = z.strictObject({
  action: z.string().max(60).optional(),
  actor: z.string().max(60).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
});
const staffId = z.strictObject({ id: z.string().uuid() });
const roleChange = z.strictObject({ roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length) });
const disabledChange = z.strictObject({ disabled: z.boolean() });
const me = z.object({ id: z.string(), email: z.string(), name: z.string(), roles: z.array(z.enum(ROLES)), csrfToken: z.string() });

function parseId(params: unknown): { id: string } {
  const parsed = staffId.safeParse(params);
  if (!parsed.success) throw AppError.badRequest('id must be a staff id (uuid)');
  return parsed.data;
}

export function setSessionCookie(req: Request, res: Response, id: string, ttlSeconds: number): void {
  res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: ttlSeconds * 1_000 });
}

/** Marks this browser as one that signed in to the account (see LoginDevices); it outlives the session. */
export function setDeviceCookie(req: Request, res: Response, value: string): void {
  const maxAge = DEVICE_COOKIE_DAYS * 86_400_000;
  res.cookie(DEVICE_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge });
}

/** What a sign-in or a password check needs to know about the request. */
export const signInFrom = (req: Request): { ip: string; deviceCookie?: string } => ({
  ip: req.ip ?? '',
  deviceCookie: cookiesOf(req)[DEVICE_COOKIE],
});

/** Sign in and out, change one's password, and (admins) read the audit log. */
export function registerStaffApi(
  api: ApiRegistry,
  deps: LoginDeps & { audit: AuditLog; sessionTtlSeconds: number; now: () => Date },
): void {
  api.add(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in; sets the session cookie',
      access: { public: true },
      body: credentials,
      response: me,
    },
    async ({ body, req, res }) => {
      const { email, password } = body;
      const result = await login(deps, { email, password, ...signInFrom(req), previousSessionId: cookiesOf(req)[SESSION_COOKIE] });
      if (result.kind === 'throttled') {
        res.setHeader('retry-after', String(result.retryAfterSeconds));
        throw new AppError(
          429,
          'throttled',
          `Too many failed sign-ins. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minute(s).`,
        );
      }
      if (result.kind === 'refused') throw new AppError(401, 'invalid_credentials', 'Wrong email or password');
      setSessionCookie(req, res, result.sessionId, deps.sessionTtlSeconds);
      setDeviceCookie(req, res, result.deviceCookie);
      return {
        id: result.user._id,
        email: result.user.email,
        name: result.user.name,
        roles: result.user.roles,
        csrfToken: result.session.csrfToken,
      };
    },
  );

  api.add({ method: 'post', path: '/auth/logout', summary: 'Sign out', access: { roles: ROLES } }, async ({ staff, res }) => {
    if (staff) {
      await deps.sessions.destroy(staff.sessionId);
      await deps.audit.append({ actor: staff.user._id, action: 'logout' });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  api.add({ method: 'get', path: '/me', summary: 'Who is signed in', access: { roles: ROLES }, response: me }, ({ staff }) => {
    if (!staff) throw new AppError(401, 'unauthenticated', 'Sign in first');
    return Promise.resolve({
      id: staff.user._id,
      email: staff.user.email,
      name: staff.user.name,
      roles: staff.user.roles,
      csrfToken: staff.session.csrfToken,
    });
  });

  api.add(
    { method: 'post', path: '/auth/password', summary: "Change one's password", access: { roles: ROLES }, body: passwordChange },
    async ({ body, staff, req }) => {
      if (!staff) throw new AppError(401, 'unauthenticated', 'Sign in first');
      // Guesses at the current password count like sign-in attempts.
      const from = signInFrom(req);
      const client = { email: staff.user.email, ip: from.ip, device: deps.devices.deviceOf(from.deviceCookie, staff.user.email) };
      const wait = await deps.throttle.attempt(client);
      if (wait > 0) throw new AppError(429, 'throttled', `Too many attempts. Try again in ${Math.ceil(wait / 60)} minute(s).`);
      const user = await deps.users.findById(staff.user._id);
      if (!user || !(await verifyPassword(body.current, user.passwordHash))) {
        throw new AppError(400, 'wrong_password', 'The current password is wrong');
      }
      await deps.throttle.succeeded(client);
      await deps.users.setPassword(user._id, await hashPassword(body.next), deps.now());
      const ended = await deps.sessions.destroyOthers(user._id, staff.sessionId);
      await deps.audit.append({ actor: user._id, action: 'password.changed', ip: req.ip ?? '', details: { otherSessionsEnded: ended } });
      return { ok: true };
    },
  );

  api.add({ method: 'get', path: '/staff', summary: 'List staff accounts', access: { roles: ['admin'] } }, async () => ({
    users: await deps.users.list(),
  }));

  api.add(
    { method: 'post', path: '/staff/:id/roles', summary: "Change a staff member's roles", access: { roles: ['admin'] }, body: roleChange },
    async ({ body, staff, req }) => {
      const { id } = parseId(req.params);
      const before = await deps.users.profile(id);
      if (!before) throw AppError.notFound('No such staff member');
      await deps.users.setRoles(id, body.roles);
      await deps.audit.append({
        actor: staff?.user._id ?? 'unknown',
        action: 'staff.roles_changed',
        target: id,
        ip: req.ip ?? '',
        details: { from: before.roles.join(','), to: body.roles.join(',') },
      });
      return { ok: true };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/staff/:id/disabled',
      summary: 'Disable or enable a staff account',
      access: { roles: ['admin'] },
      body: disabledChange,
    },
    async ({ body, staff, req }) => {
      const { id } = parseId(req.params);
      if (!(await deps.users.profile(id))) throw AppError.notFound('No such staff member');
      await deps.users.setDisabled(id, body.disabled);
      await deps.audit.append({
        actor: staff?.user._id ?? 'unknown',
        action: body.disabled ? 'staff.disabled' : 'staff.enabled',
        target: id,
        ip: req.ip ?? '',
      });
      return { ok: true };
    },
  );

  api.add(
    { method: 'get', path: '/audit', summary: 'Read the audit log (newest first)', access: { roles: ['admin'] }, query: auditQuery },
    async ({ query, staff }) => {
      const entries = await deps.audit.list(query);
      await deps.audit.append({ actor: staff?.user._id ?? 'unknown', action: 'audit.read', details: { count: entries.length } });
      return { entries };
    },
  );
}
