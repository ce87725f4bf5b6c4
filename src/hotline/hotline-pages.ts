import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import type { Texts } from '../texts/texts';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { LIVE_HEAD, escapeHtml as escape, type ConsoleShell } from '../staff/console-shell';
import { ATTEMPT_OUTCOMES, CLOSING_OUTCOMES, OPEN_STATUSES, CLOSED_STATUSES, WINDOWS, type CallbackWindow, type ClosingOutcome } from './callback-policy';
import { agentOf, queueView, referenceOf, type HotlineApiDeps } from './hotline-api';
import { queueHtml, queueQuery } from './queue-html';
import { QUEUE_PAGE_SIZE, queuePageOf } from './queue-page';

const AGENTS = ['hotline_agent', 'admin'] as const;
const attemptForm = z.object({ outcome: z.enum(ATTEMPT_OUTCOMES), note: z.string().trim().max(2_000).default('') });
const closeForm = z.object({ outcome: z.enum(Object.keys(CLOSING_OUTCOMES) as [ClosingOutcome]), note: z.string().trim().max(2_000).default('') });
const hhmm = (at: Date): string => at.toISOString().slice(11, 16);
const when = (at: Date | null): string => (at ? `${at.toISOString().slice(0, 16).replace('T', ' ')}` : '');

/** The agents' queue and the page of one request, server-rendered like the rest of the console. */
export function hotlinePages(deps: HotlineApiDeps & { shell: ConsoleShell; texts: Texts }): Router {
  const router = Router();
  const page = deps.shell.page;
  const t = deps.shell.t;
  router.use('/console/hotline', express.urlencoded({ extended: false, limit: '20kb' }), requireCsrf());

  const filtersOf = (req: Request) => ({
    status: typeof req.query.status === 'string' && [...OPEN_STATUSES, ...CLOSED_STATUSES].includes(req.query.status as never) ? req.query.status : undefined,
    region: typeof req.query.region === 'string' && req.query.region ? req.query.region.slice(0, 40) : undefined,
    language: typeof req.query.language === 'string' && req.query.language ? req.query.language.slice(0, 3) : undefined,
  });

  const pageOf = (req: Request): number => {
    const asked = typeof req.query.page === 'string' && /^\d{1,6}$/.test(req.query.page) ? Number(req.query.page) : 1;
    return Math.max(1, asked);
  };
  /** The live part: counts, this page of rows, page links; `page` comes along in the query. */
  const queueBlock = async (req: Request): Promise<string> => {
    const filters = filtersOf(req);
    const view = await queuePageOf(deps.store, filters, pageOf(req), QUEUE_PAGE_SIZE, deps.now());
    return queueHtml(view, filters, (key, vars) => t(req, key, vars));
  };

  router.get('/console/hotline/rows', allow({ roles: AGENTS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(await queueBlock(req));
  });

  router.get('/console/hotline', allow({ roles: AGENTS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const filters = filtersOf(req);
    const option = (value: string, label: string, selected?: string) => `<option value="${escape(value)}"${value === selected ? ' selected' : ''}>${label}</option>`;
    const statuses = [...OPEN_STATUSES, ...CLOSED_STATUSES].map((status) => option(status, t(req, `console.hotline.status.${status}`), filters.status)).join('');
    const languages = deps.texts.languages.map((language) => option(language.code, escape(language.name), filters.language)).join('');
    page(
      req,
      res,
      t(req, 'console.hotline.queue_title'),
      `<h1>${t(req, 'console.hotline.queue_title')}</h1>
<form method="get" class="filters"><label>${t(req, 'console.hotline.col_status')}<select name="status"><option value="">${t(req, 'console.hotline.open_all')}</option>${statuses}</select></label>
<label>${t(req, 'console.hotline.col_region')}<input name="region" value="${escape(filters.region ?? '')}"></label>
<label>${t(req, 'console.hotline.col_language')}<select name="language"><option value=""></option>${languages}</select></label><button>${t(req, 'console.audit_filter')}</button></form>
<p>${t(req, 'console.hotline.auto_refresh')} <span id="live-updated" aria-live="polite"></span></p>
<div id="queue" data-live-src="/console/hotline/rows${escape(queueQuery(filtersOf(req), pageOf(req)))}">${await queueBlock(req)}</div>`,
      staff,
      LIVE_HEAD(10),
    );
  });

  const detail = async (req: Request, res: Response, options: { phone?: string; error?: string; status?: number } = {}): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const found = await deps.store.findByAnyReference(referenceOf(req));
    if (!found) throw AppError.notFound('No such callback request');
    const request = queueView(found, deps.now());
    const csrf = `<input type="hidden" name="_csrf" value="${escape(staff.session.csrfToken)}">`;
    const action = (path: string, label: string, fields = '') => `<form method="post" action="/console/hotline/${request._id}/${path}">${csrf}${fields}<button>${label}</button></form>`;
    const mine = request.claimedBy === staff.user._id || staff.user.roles.includes('admin');
    const open = OPEN_STATUSES.includes(request.status as never);
    const window = WINDOWS[request.window as CallbackWindow];
    const attempts = request.attempts
      .map((attempt) => `<li>${escape(when(attempt.at))} - ${escape(attempt.byName)}: ${t(req, `console.hotline.attempt.${attempt.outcome}`)}${attempt.note ? `<br>${escape(attempt.note)}` : ''}</li>`)
      .join('');
    const forms = !open
      ? ''
      : !request.claimedBy
        ? action('claim', t(req, 'console.hotline.claim'))
        : !mine
          ? `<p>${t(req, 'console.hotline.claimed_by', { name: request.claimedByName ?? '' })}</p>`
          : `${options.phone ? `<p>${t(req, 'console.hotline.number')}: <span class="phone">${escape(options.phone)}</span></p>` : action('reveal', t(req, 'console.hotline.reveal'))}
${action('attempts', t(req, 'console.hotline.log_attempt'), `<label for="a-outcome">${t(req, 'console.hotline.outcome')}</label><select id="a-outcome" name="outcome">${ATTEMPT_OUTCOMES.map((o) => `<option value="${o}">${t(req, `console.hotline.attempt.${o}`)}</option>`).join('')}</select><label for="a-note">${t(req, 'console.hotline.note')}</label><textarea id="a-note" name="note" maxlength="2000" rows="3"></textarea>`)}
${action('reschedule', t(req, 'console.hotline.reschedule'), `<label for="r-at">${t(req, 'console.hotline.next_call', { from: String(window?.from ?? ''), to: String(window?.to ?? '') })}</label><input id="r-at" name="at" type="datetime-local" required>`)}
${action('close', t(req, 'console.hotline.close'), `<label for="c-outcome">${t(req, 'console.hotline.outcome')}</label><select id="c-outcome" name="outcome">${Object.keys(CLOSING_OUTCOMES).map((o) => `<option value="${o}">${t(req, `console.hotline.closing.${o}`)}</option>`).join('')}</select><label for="c-note">${t(req, 'console.hotline.note')}</label><textarea id="c-note" name="note" maxlength="2000" rows="3"></textarea>`)}
${action('release', t(req, 'console.hotline.release'))}`;
    res.status(options.status ?? 200).set('cache-control', 'no-store');
    page(
      req,
      res,
      request._id,
      `<p><a href="/console/hotline">${t(req, 'console.hotline.back')}</a></p><h1>${t(req, 'console.hotline.request_title', { ref: request._id })}</h1>
${options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : ''}
<table><tbody>${[
        ['col_status', t(req, `console.hotline.status.${request.status}`) + (request.outcome ? ` - ${t(req, `console.hotline.closing.${request.outcome}`)}` : '')],
        ['col_urgency', `<span class="badge ${escape(request.urgency)}">${t(req, `console.hotline.urgency.${request.urgency}`)}</span>`],
        ['col_due', `${escape(when(request.dueAt))}${request.overdue ? ` <strong>${t(req, 'console.hotline.overdue')}</strong>` : ''}`],
        ['col_window', `${t(req, `console.hotline.window.${request.window}`)} (${window ? `${window.from}:00-${window.to}:00` : ''})`],
        ['col_topic', escape(request.topic)],
        ['col_region', escape(request.region || '-')],
        ['col_language', escape(request.language)],
        ['col_created', escape(when(request.createdAt))],
        ['col_joined', escape(request.joined.map((entry) => `${entry.reference} (${hhmm(entry.at)})`).join(', ') || '-')],
        ['col_agent', escape(request.claimedByName ?? '-')],
      ]
        .map(([key, value]) => `<tr><th scope="row">${t(req, `console.hotline.${key}`)}</th><td>${value}</td></tr>`)
        .join('')}</tbody></table>
${forms}<h2>${t(req, 'console.hotline.attempts')}</h2>${attempts ? `<ol>${attempts}</ol>` : `<p>-</p>`}`,
      staff,
    );
  };

  router.get('/console/hotline/:ref', allow({ roles: AGENTS }, { html: true }), (req, res) => detail(req, res));

  /** Runs an agent's action; a refusal (409, 400) shows on the request's page instead of JSON. */
  const post = (path: string, run: (req: Request, res: Response) => Promise<string | undefined>) =>
    router.post(`/console/hotline/:ref/${path}`, allow({ roles: AGENTS }, { html: true }), async (req, res) => {
      try {
        const phone = await run(req, res);
        if (phone) return await detail(req, res, { phone });
        res.redirect(303, `/console/hotline/${referenceOf(req)}`);
      } catch (err) {
        if (err instanceof AppError && err.status < 500 && err.status !== 404 && err.status !== 403) return detail(req, res, { error: err.message, status: err.status });
        throw err;
      }
    });
  const body = (req: Request) => req.body as Record<string, unknown>;
  const parsed = <T>(schema: z.ZodType<T>, value: unknown): T => {
    const result = schema.safeParse(value);
    if (!result.success) throw AppError.badRequest(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    return result.data;
  };
  post('claim', async (req, res) => void (await deps.work.claim(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '')));
  post('release', async (req, res) => void (await deps.work.release(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '')));
  post('reveal', (req, res) => deps.work.reveal(referenceOf(req), agentOf(staffOf(res)), req.ip ?? ''));
  post('attempts', async (req, res) => void (await deps.work.logAttempt(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', parsed(attemptForm, body(req)))));
  post('close', async (req, res) => void (await deps.work.close(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', parsed(closeForm, body(req)))));
  post('reschedule', async (req, res) => {
    // datetime-local has no zone: the console shows Bamako time, which is UTC.
    const raw = typeof body(req).at === 'string' ? (body(req).at as string) : '';
    const at = new Date(/Z$|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
    if (Number.isNaN(at.getTime())) throw AppError.badRequest('Pick a date and time');
    await deps.work.reschedule(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', at);
    return undefined;
  });

  router.use('/console', deps.shell.forbidden);
  return router;
}

