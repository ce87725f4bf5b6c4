import { resolve } from 'node:path';
import type { Infrastructure } from '../safeline';
import { loadTexts } from '../texts/texts';
import { createConsoleShell, type ConsoleShell } from '../web/console-shell';
import { createApiRegistry, type ApiRegistry } from './api-registry';
import { createAuditLog, type AuditLog } from './audit-log';

/** What every room that serves staff shares in one process: /api/v1, the console frame, the audit log. */
export interface StaffSurface {
  readonly api: ApiRegistry;
  readonly shell: ConsoleShell;
  readonly audit: AuditLog;
}

const built = new WeakMap<Infrastructure, StaffSurface>();
export function staffSurfaceOf(infra: Infrastructure): StaffSurface {
  const existing = built.get(infra);
  if (existing) return existing;
  const texts = loadTexts(resolve(infra.config.ussd.templatesDir));
  const surface: StaffSurface = {
    api: createApiRegistry(),
    shell: createConsoleShell((language, key, vars) => texts.t(language, key, vars)),
    audit: createAuditLog(infra.mongo.connection),
  };
  built.set(infra, surface);
  return surface;
}
