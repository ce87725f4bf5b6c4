import type { Vars } from './types';

/** "{{name}}" -> vars.name (empty when unset). Used for action params; texts interpolate through i18next. */
export function interpolate(template: string, vars: Vars): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}

/** A short code a caller can quote on the phone, derived from the session so that a replay gives the same. */
export function referenceCode(seed: string): string {
  // FNV-1a, then Crockford-like base 32 without 0/O/1/I/L/U to avoid misreading over the phone.
  const alphabet = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i += 1) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let second = (hash ^ 0x5bd1e995) >>> 0;
  let code = '';
  for (let i = 0; i < 6; i += 1) {
    const source = i < 3 ? hash : second;
    code += alphabet[source % alphabet.length];
    if (i < 3) hash = Math.floor(hash / alphabet.length);
    else second = Math.floor(second / alphabet.length);
  }
  return code;
}
