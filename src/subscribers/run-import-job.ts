import type { Logger } from '../platform/logger';
import type { AuditLog } from '../staff/audit-log';
import { importSubscribers, type ImportDeps, type ImportReport } from './import-subscribers';
import type { ImportJob, ImportOrigin, SubscriberImports } from './subscriber-imports';

/** What an import's audit entry says: who, which file, and what became of its rows. */
export const importAudit = (job: ImportOrigin & { importId?: string }, state: 'done' | 'failed', report: ImportReport | null) => ({
  actor: job.actor,
  action: 'subscribers.imported',
  ...(job.importId ? { target: job.importId } : {}),
  ...(job.ip ? { ip: job.ip } : {}),
  details: {
    file: job.fileName,
    state,
    rows: report?.rows ?? 0,
    imported: report?.imported ?? 0,
    skipped: report?.optedOutByPerson ?? 0,
    rejected: report?.rejectedCount ?? 0,
  },
});

/**
 * The worker's side of an import: reads the uploaded file, imports it with its progress kept for the
 * page, and audits it, done or failed. The file is removed either way: it is not kept past its job.
 */
export async function runImportJob(
  deps: ImportDeps & { imports: SubscriberImports; audit: Pick<AuditLog, 'append'>; logger: Logger },
  job: ImportJob,
  progress: (percent: number) => Promise<void>,
): Promise<void> {
  const { importId } = job;
  try {
    const csv = await deps.imports.file(importId);
    if (csv === null) {
      await deps.imports.save(importId, {
        state: 'failed',
        done: 0,
        total: 0,
        report: null,
        error: 'The file expired before the import ran',
      });
      await deps.audit.append(importAudit(job, 'failed', null));
      return;
    }
    const expected = (await deps.imports.status(importId))?.total ?? 0;
    let last = 0;
    const report = await importSubscribers(deps, csv, async (done, total) => {
      if (Date.now() - last < 250 && done < total) return;
      last = Date.now();
      await deps.imports.save(importId, { state: 'running', done, total, report: null, error: null });
      await progress(Math.round((done / Math.max(total, 1)) * 100));
    }, expected);
    await deps.imports.save(importId, { state: 'done', done: report.rows, total: report.rows, report, error: null });
    await deps.audit.append(importAudit(job, 'done', report));
    deps.logger.info(
      { importId, rows: report.rows, imported: report.imported, skipped: report.optedOutByPerson, rejected: report.rejectedCount },
      'subscriber import done',
    );
  } catch (err) {
    await deps.imports.save(importId, {
      state: 'failed',
      done: 0,
      total: 0,
      report: null,
      error: 'The import failed; nothing after the failing row was imported. Try again.',
    });
    await deps.audit.append(importAudit(job, 'failed', null)).catch(() => undefined);
    throw err;
  } finally {
    await deps.imports.dropFile(importId);
  }
}
