import express, { Router, type Request, type Response } from 'express';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import type { Texts } from '../texts/texts';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { consoleForbidden } from '../staff/console-forbidden';
import { LiveHead } from '../web/console-layout';
import type { ConsoleShell } from '../web/console-shell';
import { PostForm } from '../web/form';
import { renderFragment } from '../web/render';
import {
  ATTEMPT_OUTCOMES,
  CLOSING_OUTCOMES,
  OPEN_STATUSES,
  CLOSED_STATUSES,
  WINDOWS,
  type CallbackWindow,
  type ClosingOutcome,
} from './callback-policy';
import { agentOf, queueView, referenceOf, type HotlineApiDeps } from './hotline-api';
import { QueueBlock, queueQuery } from './queue-view';
import { QUEUE_PAGE_SIZE, queuePageOf } from './queue-page';

const AGENTS = ['hotline_agent', 'admin'] as const;
const STATUSES = [...OPEN_STATUSES, ...CLOSED_STATUSES];
const attemptForm = z.object({ outcome: z.enum(ATTEMPT_OUTCOMES), note: z.string().trim().max(2_000).default('') });
const CLOSING = Object.keys(CLOSING_OUTCOMES) as [ClosingOutcome];
const closeForm = z.object({ outcome: z.enum(CLOSING), note: z.string().trim().max(2_000).default('') });
const hhmm = (at: Date): string => at.toISOString().slice(11, 16);
const when = (at: Date | null): string => (at ? `${at.toISOString().slice(0, 16).replace('T', ' ')}` : '');

/** The agents' queue and the page of one request, server-rendered like the rest of the console. */
export function hotlinePages(deps: HotlineApiDeps & { shell: ConsoleShell; texts: Texts }): Router {
  const router = Router();
  const page = deps.shell.page;
  const t = deps.shell.t;
  router.use('/console/hotline', express.urlencoded({ extended: false, limit: '20kb' }), requireCsrf());

  const filtersOf = (req: Request) => ({
    status: typeof req.query.status === 'string' && STATUSES.includes(req.query.status as never) ? req.query.status : undefined,
    region: typeof req.query.region === 'string' && req.query.region ? req.query.region.slice(0, 40) : undefined,
    language: typeof req.query.language === 'string' && req.query.language ? req.query.language.slice(0, 3) : undefined,
  });

  const pageOf = (req: Request): number => {
    const asked = typeof req.query.page === 'string' && /^\d{1,6}$/.test(req.query.page) ? Number(req.query.page) : 1;
    return Math.max(1, asked);
  };
  /** The live part: counts, this page of rows, page links; `page` comes along in the query. */
  const queueBlock = async (req: Request) => {
    const filters = filtersOf(req);
    const view = await queuePageOf(deps.store, filters, pageOf(req), QUEUE_PAGE_SIZE, deps.now());
    return <QueueBlock view={view} filters={filters} t={(key, vars) => t(req, key, vars)} />;
  };

  router.get('/console/hotline/rows', allow({ roles: AGENTS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(renderFragment(await queueBlock(req)));
  });

  router.get('/console/hotline', allow({ roles: AGENTS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const filters = filtersOf(req);
    const option = (value: string, label: string, selected?: string) => (
      <option value={value} selected={value === selected}>{label}</option>
    );
    page(
      req,
      res,
      t(req, 'console.hotline.queue_title'),
      <>
        <h1>{t(req, 'console.hotline.queue_title')}</h1>
        <form method="get" class="filters">
          <label>
            {t(req, 'console.hotline.col_status')}
            <select name="status">
              <option value="">{t(req, 'console.hotline.open_all')}</option>
              {STATUSES.map((status) => option(status, t(req, `console.hotline.status.${status}`), filters.status))}
            </select>
          </label>
          <label>{t(req, 'console.hotline.col_region')}<input name="region" value={filters.region ?? ''} /></label>
          <label>
            {t(req, 'console.hotline.col_language')}
            <select name="language">
              <option value=""></option>
              {deps.texts.languages.map((language) => option(language.code, language.name, filters.language))}
            </select>
          </label>
          <button>{t(req, 'console.audit_filter')}</button>
        </form>
        <p>{t(req, 'console.hotline.auto_refresh')} <span id="live-updated" aria-live="polite"></span></p>
        <div id="queue" data-live-src={`/console/hotline/rows${queueQuery(filtersOf(req), pageOf(req))}`}>{await queueBlock(req)}</div>
      </>,
      staff,
      <LiveHead seconds={10} />,
    );
  });

  const detail = async (req: Request, res: Response, options: { phone?: string; error?: string; status?: number } = {}): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const found = await deps.store.findByAnyReference(referenceOf(req));
    if (!found) throw AppError.notFound('No such callback request');
    const request = queueView(found, deps.now());
    const h = (key: string, vars?: Record<string, string>): string => t(req, `console.hotline.${key}`, vars);
    const action = (path: string, label: string, fields?: ComponentChildren) => (
      <PostForm action={`/console/hotline/${request._id}/${path}`} csrfToken={staff.session.csrfToken}>
        {fields}
        <button>{label}</button>
      </PostForm>
    );
    const mine = request.claimedBy === staff.user._id || staff.user.roles.includes('admin');
    const open = OPEN_STATUSES.includes(request.status as never);
    const window = WINDOWS[request.window as CallbackWindow];
    const agentForms = (
      <>
        {options.phone ? <p>{h('number')}: <span class="phone">{options.phone}</span></p> : action('reveal', h('reveal'))}
        {action('attempts', h('log_attempt'), <>
          <label for="a-outcome">{h('outcome')}</label>
          <select id="a-outcome" name="outcome">{ATTEMPT_OUTCOMES.map((o) => <option value={o}>{h(`attempt.${o}`)}</option>)}</select>
          <label for="a-note">{h('note')}</label><textarea id="a-note" name="note" maxlength={2000} rows={3}></textarea>
        </>)}
        {action('reschedule', h('reschedule'), <>
          <label for="r-at">{h('next_call', { from: String(window?.from ?? ''), to: String(window?.to ?? '') })}</label>
          <input id="r-at" name="at" type="datetime-local" required />
        </>)}
        {action('close', h('close'), <>
          <label for="c-outcome">{h('outcome')}</label>
          <select id="c-outcome" name="outcome">{CLOSING.map((o) => <option value={o}>{h(`closing.${o}`)}</option>)}</select>
          <label for="c-note">{h('note')}</label><textarea id="c-note" name="note" maxlength={2000} rows={3}></textarea>
        </>)}
        {action('release', h('release'))}
      </>
    );
    const forms = !open
      ? null
      : !request.claimedBy
        ? action('claim', h('claim'))
        : !mine
          ? <p>{h('claimed_by', { name: request.claimedByName ?? '' })}</p>
          : agentForms;
    const facts: Array<[string, ComponentChildren]> = [
      ['col_status', h(`status.${request.status}`) + (request.outcome ? ` - ${h(`closing.${request.outcome}`)}` : '')],
      ['col_urgency', <span class={`badge ${request.urgency}`}>{h(`urgency.${request.urgency}`)}</span>],
      ['col_due', <>{when(request.dueAt)}{request.overdue ? <> <strong>{h('overdue')}</strong></> : null}</>],
      ['col_window', `${h(`window.${request.window}`)} (${window ? `${window.from}:00-${window.to}:00` : ''})`],
      ['col_topic', request.topic],
      ['col_region', request.region || '-'],
      ['col_language', request.language],
      ['col_created', when(request.createdAt)],
      ['col_joined', request.joined.map((entry) => `${entry.reference} (${hhmm(entry.at)})`).join(', ') || '-'],
      ['col_agent', request.claimedByName ?? '-'],
    ];
    const attempts = request.attempts.map((attempt) => (
      <li>{when(attempt.at)} - {attempt.byName}: {h(`attempt.${attempt.outcome}`)}{attempt.note ? <><br />{attempt.note}</> : null}</li>
    ));
    res.status(options.status ?? 200).set('cache-control', 'no-store');
    page(
      req,
      res,
      request._id,
      <>
        <p><a href="/console/hotline">{h('back')}</a></p>
        <h1>{h('request_title', { ref: request._id })}</h1>
        {options.error ? <p class="error" role="alert">{options.error}</p> : null}
        <table><tbody>{facts.map(([key, value]) => <tr><th scope="row">{h(key)}</th><td>{value}</td></tr>)}</tbody></table>
        {forms}
        <h2>{h('attempts')}</h2>
        {attempts.length ? <ol>{attempts}</ol> : <p>-</p>}
      </>,
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
        const shown = err instanceof AppError && err.status < 500 && err.status !== 404 && err.status !== 403;
        if (shown) return detail(req, res, { error: err.message, status: err.status });
        throw err;
      }
    });
  const body = (req: Request) => req.body as Record<string, unknown>;
  const parsed = <T,>(schema: z.ZodType<T>, value: unknown): T => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw AppError.badRequest(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    }
    return result.data;
  };
  post('claim', async (req, res) => void (await deps.work.claim(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '')));
  post('release', async (req, res) => void (await deps.work.release(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '')));
  post('reveal', (req, res) => deps.work.reveal(referenceOf(req), agentOf(staffOf(res)), req.ip ?? ''));
  post('attempts', async (req, res) => {
    await deps.work.logAttempt(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', parsed(attemptForm, body(req)));
    return undefined;
  });
  post('close', async (req, res) => {
    await deps.work.close(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', parsed(closeForm, body(req)));
    return undefined;
  });
  post('reschedule', async (req, res) => {
    // datetime-local has no zone: the console shows Bamako time, which is UTC.
    const raw = typeof body(req).at === 'string' ? (body(req).at as string) : '';
    const at = new Date(/Z$|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
    if (Number.isNaN(at.getTime())) throw AppError.badRequest('Pick a date and time');
    await deps.work.reschedule(referenceOf(req), agentOf(staffOf(res)), req.ip ?? '', at);
    return undefined;
  });

  router.use('/console', consoleForbidden(deps.shell));
  return router;
}

