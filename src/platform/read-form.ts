import type { IncomingMessage } from 'node:http';

export type FormResult = { ok: true; fields: Record<string, string> } | { ok: false; reason: 'too large' | 'not a form' | 'unreadable' };

/**
 * Reads an application/x-www-form-urlencoded body of at most `limit` bytes. Lighter than
 * body-parser with qs on the hottest route, and it never throws: every outcome is a value.
 */
export function readForm(req: IncomingMessage, limit: number): Promise<FormResult> {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    req.resume();
    return Promise.resolve({ ok: false, reason: 'not a form' });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.resolve({ ok: false, reason: 'too large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: FormResult): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, reason: 'too large' });
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) if (!(name in fields)) fields[name] = value;
      finish({ ok: true, fields });
    });
    req.on('error', () => finish({ ok: false, reason: 'unreadable' }));
    req.on('aborted', () => finish({ ok: false, reason: 'unreadable' }));
  });
}
