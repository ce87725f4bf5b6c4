import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, allow, cookiesOf, requireCsrf, staffOf, type StaffContext } from './access';
import type { AuditLog } from './audit-log';
import { PostForm } from '../web/form';
import type { ConsoleShell } from '../web/console-shell';
import { Table } from '../web/table';
import { consoleForbidden } from './console-forbidden';
import { login, type LoginDeps } from './login';
import { ROLES } from './roles';
import { setDeviceCookie, setSessionCookie, signInFrom } from './staff-api';

/**
 * The staff console: server-rendered pages (no build step, usable without JavaScript, readable by
 * screen readers), in French or English. Other rooms add their own routers on the same shell.
 */
export function consolePages(deps: LoginDeps & { shell: ConsoleShell; audit: AuditLog; sessionTtlSeconds: number }): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '10kb' });
  router.use('/console', form, requireCsrf());

  const page = deps.shell.page;
  const t = deps.shell.t;

  router.get('/console/assets/console.css', allow({ public: true }), (_req, res) => {
    res.type('css').set('cache-control', 'public, max-age=3600').send(deps.shell.css);
  });
  router.get('/console/assets/live.js', allow({ public: true }), (_req, res) => {
    res.type('js').set('cache-control', 'public, max-age=3600').send(deps.shell.liveScript);
  });

  const loginForm = (req: Request, res: Response, error?: string): void => {
    const csrf = randomBytes(24).toString('base64url');
    res.cookie(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    const next = typeof req.query.next === 'string' && req.query.next.startsWith('/console') ? req.query.next : '/console';
    const title = t(req, 'console.login_title');
    page(
      req,
      res,
      title,
      <>
        <h1>{title}</h1>
        {error ? <p class="error" role="alert">{error}</p> : null}
        <PostForm action={`/console/login?next=${encodeURIComponent(next)}`} csrfToken={csrf}>
          <label for="email">{t(req, 'console.email')}</label>
          <input id="email" name="email" type="email" autocomplete="username" required />
          <label for="password">{t(req, 'console.password')}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <button type="submit">{t(req, 'console.sign_in')}</button>
        </PostForm>
      </>,
    );
  };

  router.get('/console/login', allow({ public: true }), (req, res) => loginForm(req, res));

  router.post('/console/login', allow({ public: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (typeof body.email !== 'string' || typeof body.password !== 'string') return res.status(400).send('Bad request');
    const { email, password } = body;
    const result = await login(deps, { email, password, ...signInFrom(req), previousSessionId: cookiesOf(req)[SESSION_COOKIE] });
    if (result.kind === 'signed-in') {
      setSessionCookie(req, res, result.sessionId, deps.sessionTtlSeconds);
      setDeviceCookie(req, res, result.deviceCookie);
      const next = typeof req.query.next === 'string' && req.query.next.startsWith('/console') ? req.query.next : '/console';
      return res.redirect(303, next);
    }
    res.status(result.kind === 'throttled' ? 429 : 401);
    const minutes = result.kind === 'throttled' ? String(Math.ceil(result.retryAfterSeconds / 60)) : '';
    loginForm(req, res, result.kind === 'throttled' ? t(req, 'console.login_throttled', { minutes }) : t(req, 'console.login_refused'));
  });

  router.post('/console/logout', allow({ roles: ROLES }, { html: true }), async (req, res) => {
    const staff = staffOf(res);
    if (staff) {
      await deps.sessions.destroy(staff.sessionId);
      await deps.audit.append({ actor: staff.user._id, action: 'logout', ip: req.ip ?? '' });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/console/login');
  });

  router.get('/console', allow({ roles: ROLES }, { html: true }), (req, res) => {
    const staff = staffOf(res) as StaffContext;
    page(
      req,
      res,
      t(req, 'console.nav_home'),
      <>
        <h1>{t(req, 'console.home_title', { name: staff.user.name })}</h1>
        <p>{t(req, 'console.home_roles', { roles: staff.user.roles.join(', ') })}</p>
        <p>{t(req, 'console.home_next')}</p>
      </>,
      staff,
    );
  });

  router.get('/console/audit', allow({ roles: ['admin'] }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const action = typeof req.query.action === 'string' ? req.query.action.slice(0, 60) : undefined;
    const entries = await deps.audit.list({ action, limit: 200 });
    const emails = new Map((await deps.users.list()).map((user) => [user._id, user.email]));
    const when = (at: Date): string => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    await deps.audit.append({ actor: staff.user._id, action: 'audit.read', ip: req.ip ?? '', details: { count: entries.length } });
    const columns = [t(req, 'console.audit_when'), t(req, 'console.audit_who'), t(req, 'console.audit_what'), 'IP'];
    page(
      req,
      res,
      t(req, 'console.audit_title'),
      <>
        <h1>{t(req, 'console.audit_title')}</h1>
        <form method="get">
          <label for="action">{t(req, 'console.audit_what')}</label>
          <input id="action" name="action" value={action ?? ''} />
          <button>{t(req, 'console.audit_filter')}</button>
        </form>
        <Table columns={columns}>
          {entries.map((entry) => (
            <tr>
              <td>{when(entry.at)}</td><td>{emails.get(entry.actor) ?? entry.actor}</td><td>{entry.action}</td><td>{entry.ip ?? ''}</td>
            </tr>
          ))}
        </Table>
      </>,
      staff,
    );
  });

  // A console page the role does not allow: a page in the console's language, not raw JSON.
  router.use('/console', consoleForbidden(deps.shell));
  return router;
}
