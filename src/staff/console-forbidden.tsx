import type { ErrorRequestHandler } from 'express';
import { AppError } from '../platform/app-error';
import type { ConsoleShell } from '../web/console-shell';
import { staffOf } from './access';

/** Turns a "forbidden" error (allow() refused the role) into a page in the console's language instead of JSON. */
export function consoleForbidden(shell: ConsoleShell): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (!(err instanceof AppError) || err.status !== 403 || err.code !== 'forbidden') return next(err);
    res.status(403);
    const title = shell.t(req, 'console.forbidden');
    shell.page(req, res, title, <><h1>{title}</h1><p><a href="/console">{shell.t(req, 'console.nav_home')}</a></p></>, staffOf(res));
  };
}
