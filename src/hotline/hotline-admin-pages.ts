import express, { Router, type Request } from 'express';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { escapeHtml as escape, type ConsoleShell } from '../staff/console-shell';
import { barChartSvg } from './figures-chart';
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

  const dateOf = (value: unknown): Date | undefined => (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : undefined);

  router.get('/console/hotline/figures', allow({ roles: ['admin', 'partner_viewer'] }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const { from, to } = periodOf({ from: dateOf(req.query.from), to: dateOf(req.query.to) }, deps.now());
    const requests = await deps.store.createdBetween(from, to);
    // Partners get aggregates only: small counts suppressed, days at the finest.
    const figures = seesRows(staff) ? hotlineFigures(requests, from, to) : partnerFigures(requests, from, to);
    const numeric = (count: Cell): number => (typeof count === 'number' ? count : 0);
    const table = (title: string, counts: Record<string, Cell>, label: (key: string) => string) =>
      `<section><h2>${title}</h2><table><tbody>${Object.entries(counts)
        .sort(([, a], [, b]) => numeric(b) - numeric(a))
        .map(([key, count]) => `<tr><th scope="row">${label(key)}</th><td>${escape(String(count))}</td></tr>`)
        .join('') || '<tr><td>-</td></tr>'}</tbody></table></section>`;
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const query = `from=${day(from)}&to=${day(to)}`;
    const share = figures.shareHandledInWindow === null ? '-' : `${Math.round(figures.shareHandledInWindow * 100)} %`;
    const median = figures.medianMinutesToFirstAttempt === null ? '-' : `${Math.round(figures.medianMinutesToFirstAttempt)} min`;
    page(
      req,
      res,
      t(req, 'console.hotline.figures_title'),
      `<h1>${t(req, 'console.hotline.figures_title')}</h1>
<form method="get" class="filters"><label>${t(req, 'console.hotline.from')}<input type="date" name="from" value="${day(from)}"></label><label>${t(req, 'console.hotline.to')}<input type="date" name="to" value="${day(to)}"></label><button>${t(req, 'console.audit_filter')}</button></form>
<div class="cards"><div class="card"><div>${t(req, 'console.hotline.total')}</div><strong>${escape(String(figures.total))}</strong></div>
<div class="card"><div>${t(req, 'console.hotline.median_first_attempt')}</div><strong>${median}</strong></div>
<div class="card"><div>${t(req, 'console.hotline.share_in_window')}</div><strong>${share}</strong></div></div>
<h2>${t(req, 'console.hotline.per_day')}</h2>
${barChartSvg(figures.perDay.map((point) => ({ label: point.day, value: numeric(point.count), shown: String(point.count) })), { title: deps.shell.t(req, 'console.hotline.per_day'), description: figures.perDay.map((point) => `${point.day}: ${point.count}`).join(', ') })}
<p><a href="/api/v1/hotline/export.csv?${query}" download>${t(req, 'console.hotline.export_csv')}</a></p>
<div class="cards">${table(t(req, 'console.hotline.col_status'), figures.byStatus, (key) => t(req, `console.hotline.status.${key}`))}
${table(t(req, 'console.hotline.col_urgency'), figures.byUrgency, (key) => t(req, `console.hotline.urgency.${key}`))}
${table(t(req, 'console.hotline.col_region'), figures.byRegion, escape)}
${table(t(req, 'console.hotline.col_language'), figures.byLanguage, escape)}
${table(t(req, 'console.hotline.outcome'), figures.byOutcome, (key) => t(req, `console.hotline.closing.${key}`))}</div>`,
      staff,
    );
  });

  const rota = async (req: Request, res: express.Response, error?: string): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const csrf = `<input type="hidden" name="_csrf" value="${escape(staff.session.csrfToken)}">`;
    const shifts = await deps.rota.list();
    const rows = shifts
      .map(
        (shift) => `<tr><td>${escape(shift.name)}</td><td>${escape(shift.phoneMasked)}</td><td>${shift.days.map((d) => t(req, `console.hotline.days.${DAY_KEYS[d] ?? 'sun'}`)).join(' ')}</td><td>${escape(shift.from)}-${escape(shift.to)}</td><td>${escape(shift.language)}</td>
<td><form method="post" action="/console/hotline/rota/${escape(shift._id)}/delete">${csrf}<button>${t(req, 'console.hotline.remove')}</button></form></td></tr>`,
      )
      .join('');
    page(
      req,
      res,
      t(req, 'console.hotline.rota_title'),
      `<h1>${t(req, 'console.hotline.rota_title')}</h1><p>${t(req, 'console.hotline.rota_help')}</p>${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<table><thead><tr><th scope="col">${t(req, 'console.hotline.name')}</th><th scope="col">${t(req, 'console.hotline.phone')}</th><th scope="col">${t(req, 'console.hotline.days_label')}</th><th scope="col">${t(req, 'console.hotline.hours')}</th><th scope="col">${t(req, 'console.hotline.col_language')}</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<h2>${t(req, 'console.hotline.add_shift')}</h2><form method="post" action="/console/hotline/rota">${csrf}
<label for="s-name">${t(req, 'console.hotline.name')}</label><input id="s-name" name="name" required maxlength="80">
<label for="s-phone">${t(req, 'console.hotline.phone')}</label><input id="s-phone" name="phone" type="tel" required>
<fieldset><legend>${t(req, 'console.hotline.days_label')}</legend>${DAY_KEYS.map((key, index) => `<label><input type="checkbox" name="days" value="${index}"> ${t(req, `console.hotline.days.${key}`)}</label>`).join('')}</fieldset>
<label for="s-from">${t(req, 'console.hotline.from_hour')}</label><input id="s-from" name="from" type="time" required value="08:00">
<label for="s-to">${t(req, 'console.hotline.to_hour')}</label><input id="s-to" name="to" type="time" required value="20:00">
<label for="s-lang">${t(req, 'console.hotline.col_language')}</label><select id="s-lang" name="language"><option value="fr">Français</option><option value="en">English</option></select>
<button>${t(req, 'console.hotline.add_shift')}</button></form>`,
      staff,
    );
  };

  router.get('/console/hotline/rota', allow({ roles: ['admin'] }, { html: true }), (req, res) => rota(req, res));
  router.post('/console/hotline/rota', allow({ roles: ['admin'] }, { html: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const days = ([] as unknown[]).concat(body.days ?? []).map(Number);
    const parsed = shiftSchema.safeParse({ name: body.name, phone: body.phone, language: body.language, days, from: body.from, to: body.to });
    try {
      if (!parsed.success) throw AppError.badRequest(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
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
    if (await deps.rota.remove(id)) await deps.audit.append({ actor: staffOf(res)?.user._id ?? 'unknown', action: 'hotline.rota_removed', target: id, ip: req.ip ?? '' });
    res.redirect(303, '/console/hotline/rota');
  });

  router.use('/console', deps.shell.forbidden);
  return router;
}
