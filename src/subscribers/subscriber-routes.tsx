import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import type { ApiRegistry } from '../staff/api-registry';
import { consoleForbidden } from '../staff/console-forbidden';
import { LiveHead } from '../web/console-layout';
import type { ConsoleShell } from '../web/console-shell';
import { UploadForm } from '../web/form';
import { renderFragment } from '../web/render';
import { CountsSection } from '../web/table';
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
  const limits = { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, fieldSize: MAX_UPLOAD_BYTES };
  const upload = multer({ storage: multer.memoryStorage(), limits }).single('file');
  return (req, res, next) =>
    upload(req, res, (err: unknown) => {
      if (!(err instanceof multer.MulterError)) return next(err);
      const tooLarge = err.code === 'LIMIT_FILE_SIZE' || err.code === 'LIMIT_FIELD_VALUE';
      next(
        tooLarge
          ? new AppError(413, 'too_large', 'The file is over 20 MB: split it')
          : AppError.badRequest(`Upload: ${err.message}`, err),
      );
    });
};

/** Subscribers for campaign managers: counts, and imports (API, console) with their progress. */
export function subscriberRoutes(deps: {
  api: ApiRegistry;
  shell: ConsoleShell;
  subscribers: SubscriberStore;
  imports: SubscriberImports;
}): Router {
  const { api, shell, imports } = deps;
  const t = shell.t;
  const summary = 'Subscribers by consent status, and opted-in ones by language, region and consent source';
  api.add({ method: 'get', path: '/subscribers/summary', summary, access: { roles: MANAGERS } }, () => deps.subscribers.summary());
  const progress = 'Progress and report of an import';
  api.add({ method: 'get', path: '/subscribers/imports/:id', summary: progress, access: { roles: MANAGERS } }, async ({ req }) => {
    const status = await imports.status(importIdOf(req));
    if (!status) throw AppError.notFound('No such import');
    return status;
  });

  const router = Router();
  // A CSV upload is not JSON: its own parser and size limit, the same access and CSRF rules.
  const csvBody = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: '20mb' });
  router.post('/api/v1/subscribers/imports', allow({ roles: MANAGERS }), csvBody, requireCsrf(), async (req, res) => {
    if (typeof req.body !== 'string' || req.body.trim() === '') {
      const columns = IMPORT_COLUMNS.required.join(', ');
      throw AppError.badRequest(`Send the CSV file as the body (content-type text/csv), with columns ${columns}`);
    }
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
  router.get('/console/subscribers', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const s = await deps.subscribers.summary();
    const c = (key: string, vars?: Record<string, string>): string => t(req, `console.subscribers.${key}`, vars);
    const columns = { required: IMPORT_COLUMNS.required.join(', '), optional: IMPORT_COLUMNS.optional.join(', ') };
    shell.page(
      req,
      res,
      c('title'),
      <>
        <h1>{c('title')}</h1>
        <div class="cards">
          <CountsSection title={c('by_status')} counts={s.byStatus} />
          <CountsSection title={c('by_language')} counts={s.byLanguage} />
          <CountsSection title={c('by_region')} counts={s.byRegion} />
          <CountsSection title={c('by_source')} counts={s.bySource} />
        </div>
        <h2>{c('import')}</h2>
        <p>{c('import_help', columns)}</p>
        {req.query.empty ? <p class="error" role="alert">{c('empty')}</p> : null}
        <UploadForm action="/console/subscribers/import" csrfToken={staff.session.csrfToken}>
          <label for="i-file">{c('file')}</label><input id="i-file" type="file" name="file" accept=".csv,text/csv" />
          <label for="i-csv">{c('paste')}</label><textarea id="i-csv" name="csv" rows={6}></textarea>
          <button>{c('start_import')}</button>
        </UploadForm>
        <p>{c('or_api')} <code>POST /api/v1/subscribers/imports</code>, <code>npm run subscribers:import -- FILE</code></p>
      </>,
      staff,
    );
  });
  const progressOf = async (req: Request, id: string) => {
    const status = await imports.status(id);
    if (!status) throw AppError.notFound('No such import');
    const c = (key: string, vars?: Record<string, string>): string => t(req, `console.subscribers.${key}`, vars);
    const report = status.report;
    // A report kept (7 days) from before rejections had codes has only the English reason.
    const rejected = (report?.rejected ?? []).slice(0, 500).map((r) => (
      <li>{c('line', { line: String(r.line) })}: {r.code ? c(`rejected.${r.code}`, r.values) : r.reason}</li>
    ));
    const counts = report && { imported: String(report.imported), rejected: String(report.rejectedCount ?? report.rejected.length) };
    return (
      <>
        <p>{c(`state.${status.state}`)}</p>
        <progress max={status.total || 1} value={status.done}>{status.done}/{status.total}</progress> {status.done} / {status.total}
        {counts ? <p>{c('result', counts)}</p> : null}
        {report?.optedOutByPerson ? <p>{c('opted_out_by_person', { count: String(report.optedOutByPerson) })}</p> : null}
        {rejected.length ? <ul>{rejected}</ul> : null}
        {status.error ? <p class="error">{status.error}</p> : null}
      </>
    );
  };
  router.get('/console/subscribers/import/:id/progress', allow({ roles: MANAGERS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(renderFragment(await progressOf(req, importIdOf(req))));
  });
  router.get('/console/subscribers/import/:id', allow({ roles: MANAGERS }, { html: true }), async (req: Request, res: Response) => {
    const id = importIdOf(req);
    const title = t(req, 'console.subscribers.import');
    const body = (
      <>
        <p><a href="/console/subscribers">{t(req, 'console.subscribers.title')}</a></p>
        <h1>{title}</h1>
        <div data-live-src={`/console/subscribers/import/${id}/progress`} data-live-every="1000" aria-live="polite">
          {await progressOf(req, id)}
        </div>
      </>
    );
    shell.page(req, res, title, body, staffOf(res), <LiveHead seconds={5} />);
  });
  router.use('/console', consoleForbidden(shell));
  return router;
}
