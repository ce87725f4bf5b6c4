import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';

export interface AuditEntry {
  _id: string;
  at: Date;
  day: string;
  /** Staff user id, or "anonymous" for a failed login (the email tried is kept masked in details). */
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  details?: Record<string, string | number | boolean>;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

/** Who did what and when. The app only appends: there is no update or delete here. */
export function createAuditLog(connection: Connection, now: () => Date = () => new Date()) {
  const entries = modelOn<AuditEntry>(
    connection,
    'AuditEntry',
    () =>
      new Schema<AuditEntry>(
        { _id: String, at: Date, day: String, actor: String, action: String, target: String, ip: String, details: Schema.Types.Mixed },
        { collection: 'audit_log', versionKey: false },
      ),
  );
  return {
    async append(entry: Omit<AuditEntry, '_id' | 'at' | 'day'>): Promise<void> {
      const at = now();
      await entries.create({ _id: randomUUID(), at, day: at.toISOString().slice(0, 10), ...entry });
    },
    async list(filter: AuditFilter): Promise<AuditEntry[]> {
      const query: Record<string, unknown> = {};
      if (filter.action) query.action = filter.action;
      if (filter.actor) query.actor = filter.actor;
      if (filter.from || filter.to) query.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lte: filter.to } : {}) };
      return entries.find(query).sort({ at: -1 }).limit(Math.min(filter.limit ?? 100, 1_000)).lean<AuditEntry[]>().exec();
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
