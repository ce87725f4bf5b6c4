import { randomBytes } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { AppError } from '../platform/app-error';
import type { Texts } from '../texts/texts';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, allow, cookiesOf, requireCsrf, staffOf, type StaffContext } from './access';
import type { AuditLog } from './audit-log';
import { login, type LoginDeps } from './login';
import { ROLES, type Role } from './roles';
import { setSessionCookie } from './staff-api';

type ConsoleLanguage = 'fr' | 'en';
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Pages listed in the navigation, each with the roles that may open it. */
const NAV: ReadonlyArray<{ path: string; key: string; roles: readonly Role[] }> = [
  { path: '/console', key: 'console.nav_home', roles: ROLES },
  { path: '/console/audit', key: 'console.nav_audit', roles: ['admin'] },
];

const CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111}header{background:#1e3a8a;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a,header button{color:#fff}nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}main{max-width:60rem;padding:1rem}
label{display:block;margin-top:.75rem;font-weight:600}input{display:block;box-sizing:border-box;font:inherit;padding:.4rem;width:100%;max-width:24rem;margin-top:.25rem}button{display:block;font:inherit;padding:.4rem 1rem;margin:1rem 0;cursor:pointer}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}.error{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;text-align:left;padding:.3rem}:focus-visible{outline:3px solid #f59e0b}
form.inline{display:inline}form.inline button{display:inline;margin:0;background:none;border:1px solid #fff}`;

/**
 * The staff console: server-rendered pages (no build step, usable without JavaScript, readable by
 * screen readers), in French or English. Other rooms add their pages to NAV and this router.
 */
export function consolePages(deps: LoginDeps & { texts: Texts; audit: AuditLog; sessionTtlSeconds: number }): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '10kb' });
  router.use('/console', form, requireCsrf());

  const languageOf = (req: Request): ConsoleLanguage => {
    const chosen = typeof req.query.lang === 'string' ? req.query.lang : cookiesOf(req).sl_lang;
    return chosen === 'en' ? 'en' : 'fr';
  };
  const page = (req: Request, res: Response, title: string, body: string, staff?: StaffContext): void => {
    const lang = languageOf(req);
    const t = (key: string, vars?: Record<string, string>): string => escape(deps.texts.t(lang, key, vars));
    if (typeof req.query.lang === 'string') res.cookie('sl_lang', lang, { sameSite: 'strict', path: '/console' });
    const other = lang === 'fr' ? 'en' : 'fr';
    const switchQuery = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
    switchQuery.set('lang', other);
    const nav = staff
      ? `<nav aria-label="main"><ul>${NAV.filter((item) => item.roles.some((role) => staff.user.roles.includes(role)))
          .map((item) => `<li><a href="${item.path}">${t(item.key)}</a></li>`)
          .join('')}</ul></nav>
         <form class="inline" method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${escape(staff.session.csrfToken)}"><button>${t('console.nav_logout')}</button></form>`
      : '';
    res.type('html').send(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)} - safeline</title><link rel="stylesheet" href="/console/assets/console.css"></head>
<body><a class="skip" href="#main">${t('console.skip')}</a><header><strong>safeline</strong>${nav}<a href="?${escape(switchQuery.toString())}" lang="${other}">${t('console.language')}</a></header>
<main id="main">${body}</main></body></html>`);
  };
  const t = (req: Request, key: string, vars?: Record<string, string>): string => escape(deps.texts.t(languageOf(req), key, vars));

  router.get('/console/assets/console.css', allow({ public: true }), (_req, res) => {
    res.type('css').set('cache-control', 'public, max-age=3600').send(CSS);
  });

  const loginForm = (req: Request, res: Response, error?: string): void => {
    const csrf = randomBytes(24).toString('base64url');
    res.cookie(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    const next = typeof req.query.next === 'string' && req.query.next.startsWith('/console') ? req.query.next : '/console';
    page(
      req,
      res,
      t(req, 'console.login_title'),
      `<h1>${t(req, 'console.login_title')}</h1>${error ? `<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/login?next=${encodeURIComponent(next)}">
<input type="hidden" name="_csrf" value="${csrf}">
<label for="email">${t(req, 'console.email')}</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">${t(req, 'console.password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${t(req, 'console.sign_in')}</button></form>`,
    );
  };

  router.get('/console/login', allow({ public: true }), (req, res) => loginForm(req, res));

  router.post('/console/login', allow({ public: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (typeof body.email !== 'string' || typeof body.password !== 'string') return res.status(400).send('Bad request');
    const result = await login(deps, { email: body.email, password: body.password, ip: req.ip ?? '', previousSessionId: cookiesOf(req)[SESSION_COOKIE] });
    if (result.kind === 'signed-in') {
      setSessionCookie(req, res, result.sessionId, deps.sessionTtlSeconds);
      const next = typeof req.query.next === 'string' && req.query.next.startsWith('/console') ? req.query.next : '/console';
      return res.redirect(303, next);
    }
    res.status(result.kind === 'throttled' ? 429 : 401);
    loginForm(req, res, result.kind === 'throttled' ? t(req, 'console.login_throttled', { minutes: String(Math.ceil(result.retryAfterSeconds / 60)) }) : t(req, 'console.login_refused'));
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
      `<h1>${t(req, 'console.home_title', { name: staff.user.name })}</h1><p>${t(req, 'console.home_roles', { roles: staff.user.roles.join(', ') })}</p><p>${t(req, 'console.home_next')}</p>`,
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
    const rows = entries.map((entry) => `<tr><td>${escape(when(entry.at))}</td><td>${escape(emails.get(entry.actor) ?? entry.actor)}</td><td>${escape(entry.action)}</td><td>${escape(entry.ip ?? '')}</td></tr>`).join('');
    page(
      req,
      res,
      t(req, 'console.audit_title'),
      `<h1>${t(req, 'console.audit_title')}</h1><form method="get"><label for="action">${t(req, 'console.audit_what')}</label><input id="action" name="action" value="${escape(action ?? '')}"><button>${t(req, 'console.audit_filter')}</button></form>
<table><thead><tr><th scope="col">${t(req, 'console.audit_when')}</th><th scope="col">${t(req, 'console.audit_who')}</th><th scope="col">${t(req, 'console.audit_what')}</th><th scope="col">IP</th></tr></thead><tbody>${rows}</tbody></table>`,
      staff,
    );
  });

  // A console page the role does not allow: a page in the console's language, not raw JSON.
  const forbidden: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (!(err instanceof AppError) || err.status !== 403 || err.code !== 'forbidden') return next(err);
    res.status(403);
    page(req, res, t(req, 'console.forbidden'), `<h1>${t(req, 'console.forbidden')}</h1><p><a href="/console">${t(req, 'console.nav_home')}</a></p>`, staffOf(res));
  };
  router.use('/console', forbidden);
  return router;
}
