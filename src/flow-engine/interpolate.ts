import type { Vars } from './types';

/** "{{name}}" -> vars.name (empty when unset). Used for action params; texts interpolate through i18next. */
export function interpolate(template: string, vars: Vars): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}
