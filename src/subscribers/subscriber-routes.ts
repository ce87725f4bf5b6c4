import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import type { ApiRegistry } from '../staff/api-registry';
import { LIVE_HEAD, escapeHtml as escape, type ConsoleShell } from '../staff/console-shell';
import { csvText } from './csv-text';
import { IMPORT_COLUMNS } from './import-subscribers';
import type { SubscriberImports } from './subscriber-imports';
import type { SubscriberStore } from './subscriber-store';

const MANAGERS = ['campaign_manager', 'admin'] as const;
const importIdOf = (req: Request): string => {
  const id = String(req.params.id ?? '');
  if (!z.string().uuid().safeParse(id).success) throw AppError.badRequest('id must be an import id (uuid)');
  return id;
};

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** The console's import form: one CSV file (or pasted text), kept in memory; too big is a 413, not a 500. */
const csvUpload = (): RequestHandler => {
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, fieldSize: MAX_UPLOAD_BYTES } }).single('file');
  return (req, res, next) =>
    upload(req, res, (err: unknown) => {
      if (err instanceof multer.MulterError) return next(err.code === 'LIMIT_FILE_SIZE' || err.code === 'LIMIT_FIELD_VALUE' ? new AppError(413, 'too_large', 'The file is over 20 MB: split it') : AppError.badRequest(`Upload: ${err.message}`, err));
      next(err);
    });
};

/** Subscribers for campaign managers: counts, and imports (API, console) with their progress. */
export function subscriberRoutes(deps: { api: ApiRegistry; shell: ConsoleShell; subscribers: SubscriberStore; imports: SubscriberImports }): Router {
  const { api, shell, imports } = deps;
  const t = shell.t;
  api.add({ method: 'get', path: '/subscribers/summary', summary: 'Subscribers by consent status, and opted-in ones by language, region and consent source', access: { roles: MANAGERS } }, () => deps.subscribers.summary());
  api.add({ method: 'get', path: '/subscribers/imports/:id', summary: 'Progress and report of an import', access: { roles: MANAGERS } }, async ({ req }) => {
    const status = await imports.status(importIdOf(req));
    if (!status) throw AppError.notFound('No such import');
    return status;
  });

  const router = Router();
  // A CSV upload is not JSON: its own parser and size limit, the same access and CSRF rules.
  router.post('/api/v1/subscribers/imports', allow({ roles: MANAGERS }), express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: '20mb' }), requireCsrf(), async (req, res) => {
    if (typeof req.body !== 'string' || req.body.trim() === '') throw AppError.badRequest(`Send the CSV file as the body (content-type text/csv), with columns ${IMPORT_COLUMNS.required.join(', ')}`);
    const fileName = typeof req.query.filename === 'string' ? req.query.filename : 'api upload';
    const importId = await imports.start(req.body, { actor: (staffOf(res) as StaffContext).user._id, fileName, ip: req.ip ?? '' });
    res.status(202).json({ importId, status: `/api/v1/subscribers/imports/${importId}` });
  });

  // The import form is multipart (a file, or pasted text): parsed here, after the access check.
  router.post('/console/subscribers/import', allow({ roles: MANAGERS }, { html: true }), csvUpload(), requireCsrf(), async (req, res) => {
    const pasted = (req.body as Record<string, unknown> | undefined)?.csv;
    const csv = req.file ? csvText(req.file.buffer) : typeof pasted === 'string' ? pasted : '';
    if (csv.trim() === '') return res.redirect(303, '/console/subscribers?empty=1');
    const fileName = req.file ? req.file.originalname : 'pasted text';
    const id = await imports.start(csv, { actor: (staffOf(res) as StaffContext).user._id, fileName, ip: req.ip ?? '' });
    res.redirect(303, `/console/subscribers/import/${id}`);
  });
  router.use('/console/subscribers', express.urlencoded({ extended: false, limit: '5mb' }), requireCsrf());
  const table = (title: string, counts: Record<string, number>) =>
    `<section><h2>${title}</h2><table><tbody>${Object.entries(counts).sort(([, a], [, b]) => b - a).map(([key, n]) => `<tr><th scope="row">${escape(key)}</th><td>${n}</td></tr>`).join('') || '<tr><td>-</td></tr>'}</tbody></table></section>`;
  router.get('/console/subscribers', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const s = await deps.subscribers.summary();
    shell.page(req, res, t(req, 'console.subscribers.title'), `<h1>${t(req, 'console.subscribers.title')}</h1>
<div class="cards">${table(t(req, 'console.subscribers.by_status'), s.byStatus)}${table(t(req, 'console.subscribers.by_language'), s.byLanguage)}${table(t(req, 'console.subscribers.by_region'), s.byRegion)}${table(t(req, 'console.subscribers.by_source'), s.bySource)}</div>
<h2>${t(req, 'console.subscribers.import')}</h2><p>${t(req, 'console.subscribers.import_help', { required: IMPORT_COLUMNS.required.join(', '), optional: IMPORT_COLUMNS.optional.join(', ') })}</p>
${req.query.empty ? `<p class="error" role="alert">${t(req, 'console.subscribers.empty')}</p>` : ''}<form method="post" action="/console/subscribers/import?_csrf=${encodeURIComponent(staff.session.csrfToken)}" enctype="multipart/form-data">
<label for="i-file">${t(req, 'console.subscribers.file')}</label><input id="i-file" type="file" name="file" accept=".csv,text/csv">
<label for="i-csv">${t(req, 'console.subscribers.paste')}</label><textarea id="i-csv" name="csv" rows="6"></textarea><button>${t(req, 'console.subscribers.start_import')}</button></form>
<p>${t(req, 'console.subscribers.or_api')} <code>POST /api/v1/subscribers/imports</code>, <code>npm run subscribers:import -- FILE</code></p>`, staff);
  });
  const progressHtml = async (req: Request, id: string): Promise<string> => {
    const status = await imports.status(id);
    if (!status) throw AppError.notFound('No such import');
    // A report kept (7 days) from before rejections had codes has only the English reason.
    const rejected = status.report?.rejected.slice(0, 500).map((r) => `<li>${t(req, 'console.subscribers.line', { line: String(r.line) })}: ${escape(r.code ? t(req, `console.subscribers.rejected.${r.code}`, r.values) : r.reason)}</li>`).join('') ?? '';
    return `<p>${t(req, `console.subscribers.state.${status.state}`)}</p><progress max="${status.total || 1}" value="${status.done}">${status.done}/${status.total}</progress> ${status.done} / ${status.total}
${status.report ? `<p>${t(req, 'console.subscribers.result', { imported: String(status.report.imported), rejected: String(status.report.rejectedCount ?? status.report.rejected.length) })}</p>${status.report.optedOutByPerson ? `<p>${t(req, 'console.subscribers.opted_out_by_person', { count: String(status.report.optedOutByPerson) })}</p>` : ''}${rejected ? `<ul>${rejected}</ul>` : ''}` : ''}${status.error ? `<p class="error">${escape(status.error)}</p>` : ''}`;
  };
  router.get('/console/subscribers/import/:id/progress', allow({ roles: MANAGERS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(await progressHtml(req, importIdOf(req)));
  });
  router.get('/console/subscribers/import/:id', allow({ roles: MANAGERS }, { html: true }), async (req: Request, res: Response) => {
    const id = importIdOf(req);
    shell.page(req, res, t(req, 'console.subscribers.import'), `<p><a href="/console/subscribers">${t(req, 'console.subscribers.title')}</a></p><h1>${t(req, 'console.subscribers.import')}</h1>
<div data-live-src="/console/subscribers/import/${id}/progress" data-live-every="1000" aria-live="polite">${await progressHtml(req, id)}</div>`, staffOf(res), LIVE_HEAD(5));
  });
  router.use('/console', shell.forbidden);
  return router;
}
