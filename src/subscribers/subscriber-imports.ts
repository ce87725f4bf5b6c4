import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { TypedQueue } from '../platform/queues';
import type { PhoneProtection } from '../shared/phone-protection';
import { maskPhonesIn } from '../shared/redact';
import type { ImportReport } from './import-subscribers';

export const IMPORT_QUEUE = 'subscriber-imports';
export interface ImportJob {
  [key: string]: string;
  importId: string;
  actor: string;
  /** The uploaded file's name (numbers in it masked), for the audit log. */
  fileName: string;
  ip: string;
}

/** Who started an import, from where, with which file: what its audit entry names. */
export interface ImportOrigin {
  actor: string;
  fileName: string;
  ip: string;
}

export interface ImportStatus {
  state: 'queued' | 'running' | 'done' | 'failed';
  done: number;
  total: number;
  report: ImportReport | null;
  error: string | null;
}

/** A file name as the audit log keeps it: no folders, numbers in it masked, short. */
export const fileNameOf = (name: string): string => maskPhonesIn(name.split(/[\\/]/).pop() ?? '').slice(0, 120) || 'unnamed';

/** Characters per sealed piece: the worker holds one piece at a time, whatever the file's size. */
const PIECE_CHARS = 256 * 1024;
const DAY = 86_400;

/** The file in pieces that never split a character made of two UTF-16 units. */
function* piecesOf(text: string): Generator<string> {
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + PIECE_CHARS, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield text.slice(at, end);
    at = end;
  }
}

/**
 * An import runs as a job in the worker, so a file of a million rows neither blocks a request nor
 * dies with it. The file waits in Redis for its job (a day at most), never in clear: a list of pieces
 * each sealed with AES-256-GCM (PHONE_ENCRYPTION_KEYS), deleted when the job ends, well or not.
 * Progress and the report (no numbers) are kept for the progress page.
 */
export function createSubscriberImports(redis: Redis, prefix: string, queue: TypedQueue<ImportJob>, protection: PhoneProtection) {
  const fileKey = (id: string) => `${prefix}:subscriber-import:${id}:file`;
  const statusKey = (id: string) => `${prefix}:subscriber-import:${id}:status`;
  const save = async (id: string, status: ImportStatus) => void (await redis.set(statusKey(id), JSON.stringify(status), 'EX', 7 * DAY));
  const dropFile = async (id: string) => void (await redis.del(fileKey(id)));
  return {
    async start(csv: string, origin: ImportOrigin): Promise<string> {
      const importId = randomUUID();
      try {
        // Each piece gets the key's lifetime with it: a writer that dies midway leaves nothing for ever.
        for (const piece of piecesOf(csv)) {
          await redis.multi().rpush(fileKey(importId), protection.encrypt(piece)).expire(fileKey(importId), DAY).exec();
        }
        const expected = Math.max((csv.match(/\n/g)?.length ?? 0) + (csv.endsWith('\n') ? 0 : 1) - 1, 0);
        await save(importId, { state: 'queued', done: 0, total: expected, report: null, error: null });
        await queue.add(
          { importId, ...origin, fileName: fileNameOf(origin.fileName) },
          { jobId: importId, attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
        );
      } catch (err) {
        await dropFile(importId).catch(() => undefined);
        throw err;
      }
      return importId;
    },
    async status(id: string): Promise<ImportStatus | undefined> {
      const raw = await redis.get(statusKey(id));
      return raw ? (JSON.parse(raw) as ImportStatus) : undefined;
    },
    /** The file's text, piece by piece, unsealed as it is read; null once it expired. */
    async file(id: string): Promise<AsyncIterable<string> | null> {
      const pieces = await redis.llen(fileKey(id));
      if (pieces === 0) return null;
      return (async function* () {
        for (let i = 0; i < pieces; i += 1) {
          const sealed = await redis.lindex(fileKey(id), i);
          if (sealed === null) throw new Error('the uploaded file expired during its import');
          yield protection.decrypt(sealed);
        }
      })();
    },
    save,
    dropFile,
  };
}

export type SubscriberImports = ReturnType<typeof createSubscriberImports>;
