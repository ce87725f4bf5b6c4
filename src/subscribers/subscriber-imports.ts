import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { TypedQueue } from '../platform/queues';
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

/**
 * An import runs as a job in the worker, so a file of 100,000 rows neither blocks a request nor
 * dies with it. The file waits in Redis (a day at most); progress and the report are kept there too.
 */
export function createSubscriberImports(redis: Redis, prefix: string, queue: TypedQueue<ImportJob>) {
  const fileKey = (id: string) => `${prefix}:subscriber-import:${id}:file`;
  const statusKey = (id: string) => `${prefix}:subscriber-import:${id}:status`;
  const DAY = 86_400;
  const save = async (id: string, status: ImportStatus) => void (await redis.set(statusKey(id), JSON.stringify(status), 'EX', 7 * DAY));
  return {
    async start(csv: string, origin: ImportOrigin): Promise<string> {
      const importId = randomUUID();
      await redis.set(fileKey(importId), csv, 'EX', DAY);
      await save(importId, { state: 'queued', done: 0, total: 0, report: null, error: null });
      await queue.add({ importId, ...origin, fileName: fileNameOf(origin.fileName) }, { jobId: importId, attempts: 1, removeOnComplete: 100, removeOnFail: 100 });
      return importId;
    },
    async status(id: string): Promise<ImportStatus | undefined> {
      const raw = await redis.get(statusKey(id));
      return raw ? (JSON.parse(raw) as ImportStatus) : undefined;
    },
    file: (id: string): Promise<string | null> => redis.get(fileKey(id)),
    save,
    dropFile: async (id: string) => void (await redis.del(fileKey(id))),
  };
}

export type SubscriberImports = ReturnType<typeof createSubscriberImports>;
