import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../platform/app-error';
import type { Texts } from '../texts/texts';

/** The message templates in templates/<lang>/campaigns.json, with the variables each one uses. */
export function listTemplates(
  texts: Texts,
  keys: readonly string[],
): Array<{ key: string; variables: string[]; languages: Record<string, string> }> {
  return keys.map((key) => {
    const languages = Object.fromEntries(
      texts.languages.filter((l) => texts.has(l.code, `campaigns.${key}`)).map((l) => [l.code, texts.t(l.code, `campaigns.${key}`, {})]),
    );
    const variables = [
      ...new Set(Object.values(languages).flatMap((text) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? ''))),
    ].sort();
    return { key, variables, languages };
  });
}

/**
 * A campaign's texts from a template: every language that has it, its variables filled. A variable
 * left empty is refused (a message with "{{hotline}}" in it must never go out).
 */
export function textsFromTemplate(texts: Texts, key: string, variables: Record<string, string>): Record<string, string> {
  const filled = Object.fromEntries(
    texts.languages
      .filter((l) => texts.has(l.code, `campaigns.${key}`))
      .map((l) => [l.code, texts.t(l.code, `campaigns.${key}`, { ...variables, interpolation: { escapeValue: false } } as never)]),
  );
  if (Object.keys(filled).length === 0) throw AppError.badRequest(`template: no template "${key}" in templates/<lang>/campaigns.json`);
  const missing = [...new Set(Object.values(filled).flatMap((text) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? '')))];
  if (missing.length) throw AppError.badRequest(`template: give a value for ${missing.join(', ')}`);
  return filled;
}

/** The template keys, from the default language's campaigns.json (none when the file is absent). */
export function templateKeys(templatesDir: string, defaultLanguage: string): string[] {
  try {
    const file = JSON.parse(readFileSync(join(templatesDir, defaultLanguage, 'campaigns.json'), 'utf8')) as {
      campaigns?: Record<string, unknown>;
    };
    return Object.keys(file.campaigns ?? {});
  } catch {
    return [];
  }
}
