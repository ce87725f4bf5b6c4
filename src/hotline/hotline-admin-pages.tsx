import express, { Router, type Request } from 'express';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { consoleForbidden } from '../staff/console-forbidden';
import { BarChart } from '../web/charts';
import type { ConsoleShell } from '../web/console-shell';
import { PostForm } from '../web/form';
import { CountsSection, Table } from '../web/table';
import { addShift, periodOf, seesRows, shiftSchema, type HotlineApiDeps } from './hotline-api';
import { hotlineFigures } from './hotline-figures';
import { partnerFigures, type Cell } from './partner-figures';

const DAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Figures for admins and partners, and the duty rota for admins. */
export function hotlineAdminPages(deps: HotlineApiDeps & { shell: ConsoleShell }): Router {
  const router = Router();
  const page = deps.shell.page;
  const t = deps.shell.t;
  router.use('/console/hotline', express.urlencoded({ extended: true, limit: '10kb' }), requireCsrf());

  const dateOf = (value: unknown): Date | undefined =>
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;

  router.get('/console/hotline/figures', allow({ roles: ['admin', 'partner_viewer'] }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const { from, to } = periodOf({ from: dateOf(req.query.from), to: dateOf(req.query.to) }, deps.now());
    const requests = await deps.store.createdBetween(from, to);
    // Partners get aggregates only: small counts suppressed, days at the finest.
    const figures = seesRows(staff) ? hotlineFigures(requests, from, to) : partnerFigures(requests, from, to);
    const numeric = (count: Cell): number => (typeof count === 'number' ? count : 0);
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const query = `from=${day(from)}&to=${day(to)}`;
    const share = figures.shareHandledInWindow === null ? '-' : `${Math.round(figures.shareHandledInWindow * 100)} %`;
    const median = figures.medianMinutesToFirstAttempt === null ? '-' : `${Math.round(figures.medianMinutesToFirstAttempt)} min`;
    const h = (key: string): string => t(req, `console.hotline.${key}`);
    const perDay = {
      points: figures.perDay.map((point) => ({ label: point.day, value: numeric(point.count), shown: String(point.count) })),
      title: h('per_day'),
      description: figures.perDay.map((point) => `${point.day}: ${point.count}`).join(', '),
    };
    page(
      req,
      res,
      h('figures_title'),
      <>
        <h1>{h('figures_title')}</h1>
        <form method="get" class="filters">
          <label>{h('from')}<input type="date" name="from" value={day(from)} /></label>
          <label>{h('to')}<input type="date" name="to" value={day(to)} /></label>
          <button>{t(req, 'console.audit_filter')}</button>
        </form>
        <div class="cards">
          <div class="card"><div>{h('total')}</div><strong>{String(figures.total)}</strong></div>
          <div class="card"><div>{h('median_first_attempt')}</div><strong>{median}</strong></div>
          <div class="card"><div>{h('share_in_window')}</div><strong>{share}</strong></div>
        </div>
        <h2>{h('per_day')}</h2>
        <BarChart {...perDay} />
        <p><a href={`/api/v1/hotline/export.csv?${query}`} download>{h('export_csv')}</a></p>
        <div class="cards">
          <CountsSection title={h('col_status')} counts={figures.byStatus} label={(key) => h(`status.${key}`)} />
          <CountsSection title={h('col_urgency')} counts={figures.byUrgency} label={(key) => h(`urgency.${key}`)} />
          <CountsSection title={h('col_region')} counts={figures.byRegion} />
          <CountsSection title={h('col_language')} counts={figures.byLanguage} />
          <CountsSection title={h('outcome')} counts={figures.byOutcome} label={(key) => h(`closing.${key}`)} />
        </div>
      </>,
      staff,
    );
  });

  const rota = async (req: Request, res: express.Response, error?: string): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const csrfToken = staff.session.csrfToken;
    const shifts = await deps.rota.list();
    const h = (key: string): string => t(req, `console.hotline.${key}`);
    const days = (numbers: readonly number[]): string => numbers.map((d) => h(`days.${DAY_KEYS[d] ?? 'sun'}`)).join(' ');
    page(
      req,
      res,
      h('rota_title'),
      <>
        <h1>{h('rota_title')}</h1>
        <p>{h('rota_help')}</p>
        {error ? <p class="error" role="alert">{error}</p> : null}
        <Table columns={[h('name'), h('phone'), h('days_label'), h('hours'), h('col_language'), null]}>
          {shifts.map((shift) => (
            <tr>
              <td>{shift.name}</td><td>{shift.phoneMasked}</td><td>{days(shift.days)}</td>
              <td>{shift.from}-{shift.to}</td><td>{shift.language}</td>
              <td>
                <PostForm action={`/console/hotline/rota/${shift._id}/delete`} csrfToken={csrfToken}>
                  <button>{h('remove')}</button>
                </PostForm>
              </td>
            </tr>
          ))}
        </Table>
        <h2>{h('add_shift')}</h2>
        <PostForm action="/console/hotline/rota" csrfToken={csrfToken}>
          <label for="s-name">{h('name')}</label><input id="s-name" name="name" required maxlength={80} />
          <label for="s-phone">{h('phone')}</label><input id="s-phone" name="phone" type="tel" required />
          <fieldset>
            <legend>{h('days_label')}</legend>
            {DAY_KEYS.map((key, index) => <label><input type="checkbox" name="days" value={index} /> {h(`days.${key}`)}</label>)}
          </fieldset>
          <label for="s-from">{h('from_hour')}</label><input id="s-from" name="from" type="time" required value="08:00" />
          <label for="s-to">{h('to_hour')}</label><input id="s-to" name="to" type="time" required value="20:00" />
          <label for="s-lang">{h('col_language')}</label>
          <select id="s-lang" name="language"><option value="fr">Français</option><option value="en">English</option></select>
          <button>{h('add_shift')}</button>
        </PostForm>
      </>,
      staff,
    );
  };

  router.get('/console/hotline/rota', allow({ roles: ['admin'] }, { html: true }), (req, res) => rota(req, res));
  router.post('/console/hotline/rota', allow({ roles: ['admin'] }, { html: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const days = ([] as unknown[]).concat(body.days ?? []).map(Number);
    const { name, phone, language, from, to } = body;
    const parsed = shiftSchema.safeParse({ name, phone, language, days, from, to });
    try {
      if (!parsed.success) {
        throw AppError.badRequest(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      }
      const id = await addShift(deps, parsed.data, staffOf(res));
      await deps.audit.append({ actor: staffOf(res)?.user._id ?? 'unknown', action: 'hotline.rota_added', target: id, ip: req.ip ?? '' });
      res.redirect(303, '/console/hotline/rota');
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 400) throw err;
      res.status(400);
      await rota(req, res, err.message);
    }
  });
  router.post('/console/hotline/rota/:id/delete', allow({ roles: ['admin'] }, { html: true }), async (req, res) => {
    const id = String(req.params.id ?? '');
    if (await deps.rota.remove(id)) {
      await deps.audit.append({ actor: staffOf(res)?.user._id ?? 'unknown', action: 'hotline.rota_removed', target: id, ip: req.ip ?? '' });
    }
    res.redirect(303, '/console/hotline/rota');
  });

  router.use('/console', consoleForbidden(deps.shell));
  return router;
}
