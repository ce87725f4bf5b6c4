import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../platform/app-error';
import { secretMatches } from '../shared/secret-compare';
import type { Role } from './roles';
import type { StaffSession, StaffSessions } from './staff-sessions';
import { profileOf, type StaffProfile, type StaffStore } from './staff-store';

export const SESSION_COOKIE = 'sl_sid';
export const LOGIN_CSRF_COOKIE = 'sl_csrf';

/** Who may use a route: anyone (login page, docs) or staff with one of the roles. */
export type Access = { readonly public: true } | { readonly roles: readonly Role[] };

/** The middleware that enforces an Access carries it, so a test can find routes without one. */
export type AccessGuard = RequestHandler & { readonly access: Access };

export interface StaffContext {
  readonly user: StaffProfile;
  readonly session: StaffSession;
  readonly sessionId: string;
}

export const staffOf = (res: Response): StaffContext | undefined => res.locals.staff as StaffContext | undefined;
export const cookiesOf = (req: Request): Record<string, string | undefined> => parseCookies(req.headers.cookie ?? '');

/**
 * Finds the staff member behind the session cookie, on every request: a disabled user's live
 * session ends at their next request.
 */
export function authenticate(deps: { sessions: StaffSessions; users: StaffStore }): RequestHandler {
  return async (req, res, next) => {
    const sessionId = cookiesOf(req)[SESSION_COOKIE];
    if (!sessionId) return next();
    const session = await deps.sessions.get(sessionId);
    if (!session) return next();
    const user = await deps.users.findById(session.userId);
    if (!user || user.disabled) {
      await deps.sessions.destroy(sessionId);
      return next();
    }
    res.locals.staff = { user: profileOf(user), session, sessionId } satisfies StaffContext;
    next();
  };
}

/** Declares and enforces who may use a route. Console pages send the anonymous to the login page. */
export function allow(access: Access, options: { html?: boolean } = {}): AccessGuard {
  const guard = (req: Request, res: Response, next: NextFunction): void => {
    if ('public' in access) return next();
    const staff = staffOf(res);
    if (!staff) {
      if (options.html) return res.redirect(303, `/console/login?next=${encodeURIComponent(req.originalUrl)}`);
      return next(new AppError(401, 'unauthenticated', 'Sign in first'));
    }
    if (!access.roles.some((role) => staff.user.roles.includes(role))) {
      return next(new AppError(403, 'forbidden', 'Your role does not allow this'));
    }
    next();
  };
  return Object.assign(guard, { access });
}

/**
 * Every state-changing request carries a CSRF token: the session's (header x-csrf-token or form
 * field _csrf), or, before login, the one in the sl_csrf cookie (double submit).
 */
export function requireCsrf(): RequestHandler {
  return (req, res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    // A multipart form (a file upload) is parsed by its own route, after this check: its token rides in the query.
    const fromQuery = req.is('multipart/form-data') ? req.query._csrf : undefined;
    const given = req.get('x-csrf-token') ?? (req.body as { _csrf?: unknown } | undefined)?._csrf ?? fromQuery;
    const staff = staffOf(res);
    const expected = staff ? staff.session.csrfToken : cookiesOf(req)[LOGIN_CSRF_COOKIE];
    if (!expected || !secretMatches(given, expected)) return next(new AppError(403, 'csrf', 'Missing or wrong CSRF token'));
    next();
  };
}
