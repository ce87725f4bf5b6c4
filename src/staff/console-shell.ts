import type { ErrorRequestHandler, Request, Response } from 'express';
import { AppError } from '../platform/app-error';
import type { Texts } from '../texts/texts';
import { cookiesOf, staffOf, type StaffContext } from './access';
import { ROLES, type Role } from './roles';

export type ConsoleLanguage = 'fr' | 'en';
export const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Pages listed in the navigation, each with the roles that may open it. */
const NAV: ReadonlyArray<{ path: string; key: string; roles: readonly Role[] }> = [
  { path: '/console', key: 'console.nav_home', roles: ROLES },
  { path: '/console/hotline', key: 'console.nav_hotline', roles: ['hotline_agent', 'admin'] },
  { path: '/console/hotline/figures', key: 'console.nav_hotline_figures', roles: ['admin', 'partner_viewer'] },
  { path: '/console/hotline/rota', key: 'console.nav_rota', roles: ['admin'] },
  { path: '/console/campaigns', key: 'console.nav_campaigns', roles: ['campaign_manager', 'admin'] },
  { path: '/console/subscribers', key: 'console.nav_subscribers', roles: ['campaign_manager', 'admin'] },
  { path: '/console/sms-emulator', key: 'console.nav_emulator', roles: ['campaign_manager', 'admin'] },
  { path: '/console/audit', key: 'console.nav_audit', roles: ['admin'] },
];

const CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111}header{background:#1e3a8a;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a,header button{color:#fff}nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}main{max-width:72rem;padding:1rem}
label{display:block;margin-top:.75rem;font-weight:600}input,select,textarea{display:block;box-sizing:border-box;font:inherit;padding:.4rem;width:100%;max-width:24rem;margin-top:.25rem}textarea{max-width:40rem}button{display:block;font:inherit;padding:.4rem 1rem;margin:1rem 0;cursor:pointer}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}.error{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;text-align:left;padding:.3rem}:focus-visible{outline:3px solid #f59e0b}
form.inline{display:inline}form.inline button{display:inline;margin:0;background:none;border:1px solid #fff}
tr.overdue{background:#fef2f2}tr.overdue td:first-child{border-left:6px solid #b91c1c}.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#e5e7eb}
.badge.child_in_danger{background:#b91c1c;color:#fff}.badge.urgent{background:#f59e0b}.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end}.filters label{margin:0}
.bars rect{fill:#1e3a8a}.bars .queued{fill:#60a5fa}.bars .delivered{fill:#15803d}.bars .failed{fill:#b91c1c}.bars .optedOut,.bars .cancelled,.bars .unknown{fill:#6b7280}fieldset{margin-top:.75rem}.inline-options label{display:inline-block;margin-right:1rem;font-weight:400}.inline-options input{display:inline;width:auto}
.phone{font-size:1.6rem;font-weight:700;letter-spacing:.05em}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;min-width:10rem}
.pager ul,.counts ul{list-style:none;display:flex;gap:.75rem;flex-wrap:wrap;padding:0;margin:.5rem 0}.pager a,.pager strong{display:inline-block;padding:.2rem .5rem}`;

/**
 * Parts of a page that refresh themselves: an element with data-live-src="/console/..." gets its
 * HTML from that URL every data-live-every ms (default 5000). Pages add a meta refresh in
 * <noscript> for browsers without JavaScript.
 */
const LIVE_SCRIPT = `(function(){if(!window.fetch)return;document.querySelectorAll('[data-live-src]').forEach(function(el){
var every=Number(el.getAttribute('data-live-every'))||5000;setInterval(function(){fetch(el.getAttribute('data-live-src'),{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null}).then(function(html){if(html!==null){el.innerHTML=html;var s=document.getElementById('live-updated');if(s)s.textContent=new Date().toLocaleTimeString();}}).catch(function(){});},every);});})();`;
export const LIVE_HEAD = (seconds: number): string => `<noscript><meta http-equiv="refresh" content="${seconds}"></noscript><script src="/console/assets/live.js" defer></script>`;

export interface ConsoleShell {
  css: string;
  liveScript: string;
  languageOf: (req: Request) => ConsoleLanguage;
  /** A translated, HTML-escaped text in the request's console language. */
  t: (req: Request, key: string, vars?: Record<string, string>) => string;
  /** Sends a whole page: header, navigation for the user's roles, language switch, body. */
  page: (req: Request, res: Response, title: string, body: string, staff?: StaffContext, head?: string) => void;
  /** Turns a "forbidden" error into a page in the console's language instead of JSON. */
  forbidden: ErrorRequestHandler;
}

/** The frame every console page shares (server-rendered, works without JavaScript, fr or en). */
export function createConsoleShell(texts: Texts): ConsoleShell {
  const languageOf = (req: Request): ConsoleLanguage => {
    const chosen = typeof req.query.lang === 'string' ? req.query.lang : cookiesOf(req).sl_lang;
    return chosen === 'en' ? 'en' : 'fr';
  };
  const t = (req: Request, key: string, vars?: Record<string, string>): string => escapeHtml(texts.t(languageOf(req), key, vars));
  const page: ConsoleShell['page'] = (req, res, title, body, staff, head = '') => {
    const lang = languageOf(req);
    if (typeof req.query.lang === 'string') res.cookie('sl_lang', lang, { sameSite: 'strict', path: '/console' });
    const other = lang === 'fr' ? 'en' : 'fr';
    const switchQuery = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
    switchQuery.set('lang', other);
    const nav = staff
      ? `<nav aria-label="main"><ul>${NAV.filter((item) => item.roles.some((role) => staff.user.roles.includes(role)))
          .map((item) => `<li><a href="${item.path}">${t(req, item.key)}</a></li>`)
          .join('')}</ul></nav>
         <form class="inline" method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${escapeHtml(staff.session.csrfToken)}"><button>${t(req, 'console.nav_logout')}</button></form>`
      : '';
    res.type('html').send(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} - safeline</title><link rel="stylesheet" href="/console/assets/console.css">${head}</head>
<body><a class="skip" href="#main">${t(req, 'console.skip')}</a><header><strong>safeline</strong>${nav}<a href="?${escapeHtml(switchQuery.toString())}" lang="${other}">${t(req, 'console.language')}</a></header>
<main id="main">${body}</main></body></html>`);
  };
  const forbidden: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (!(err instanceof AppError) || err.status !== 403 || err.code !== 'forbidden') return next(err);
    res.status(403);
    page(req, res, t(req, 'console.forbidden'), `<h1>${t(req, 'console.forbidden')}</h1><p><a href="/console">${t(req, 'console.nav_home')}</a></p>`, staffOf(res));
  };
  return { css: CSS, liveScript: LIVE_SCRIPT, languageOf, t, page, forbidden };
}
