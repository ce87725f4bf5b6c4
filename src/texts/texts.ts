import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import i18next, { type i18n } from 'i18next';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Review state of a translation file, so native speakers can approve texts written by others. */
const metaSchema = z.object({
  language: z.string(),
  review_status: z.enum(['draft', 'reviewed']),
  reviewed_by: z.string().nullable().optional(),
  notes: z.string().optional(),
});
export type TranslationMeta = z.infer<typeof metaSchema>;

const languagesSchema = z.strictObject({
  default: z.string().regex(/^[a-z]{2,3}$/),
  languages: z
    .array(z.strictObject({ code: z.string().regex(/^[a-z]{2,3}$/), name: z.string().min(1), ascii_spelling: z.boolean().optional() }))
    .min(1),
});

export interface Language {
  readonly code: string;
  readonly name: string;
  /** Its letters force UCS-2 (e.g. Bambara's ɛ ɔ ɲ): campaign previews also show an ASCII spelling. */
  readonly asciiSpelling: boolean;
}

/** Every text of every enabled language; translation is pure once loaded. */
export interface Texts {
  readonly languages: readonly Language[];
  readonly defaultLanguage: string;
  t(language: string, key: string, vars?: Readonly<Record<string, string>>): string;
  has(language: string, key: string): boolean;
  meta(language: string): Readonly<Record<string, TranslationMeta>>;
}

export class TextsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextsError';
  }
}

/**
 * Loads templates/languages.yaml and templates/<lang>/*.json (one i18next namespace per file,
 * "ussd" first). Keys are "section.name" inside a file; `_meta` holds the review status.
 */
export function loadTexts(dir: string): Texts {
  const config = languagesSchema.safeParse(parseYaml(readFileSync(join(dir, 'languages.yaml'), 'utf8')));
  if (!config.success) {
    throw new TextsError(
      `templates/languages.yaml: ${config.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const { languages } = config.data;
  if (!languages.some((language) => language.code === config.data.default)) {
    throw new TextsError(`templates/languages.yaml: default "${config.data.default}" is not an enabled language`);
  }

  const resources: Record<string, Record<string, Record<string, unknown>>> = {};
  const metas: Record<string, Record<string, TranslationMeta>> = {};
  const namespaces = new Set<string>();
  for (const { code } of languages) {
    resources[code] = {};
    metas[code] = {};
    let files: string[];
    try {
      files = readdirSync(join(dir, code)).filter((name) => name.endsWith('.json'));
    } catch {
      throw new TextsError(`templates/${code}/ is missing for enabled language "${code}"`);
    }
    for (const file of files) {
      const namespace = file.replace(/\.json$/, '');
      let content: Record<string, unknown>;
      try {
        content = JSON.parse(readFileSync(join(dir, code, file), 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new TextsError(`templates/${code}/${file}: ${(err as Error).message}`);
      }
      const { _meta: rawMeta, ...texts } = content;
      const meta = metaSchema.safeParse(rawMeta);
      if (!meta.success) throw new TextsError(`templates/${code}/${file}: "_meta" needs language and review_status (draft or reviewed)`);
      metas[code][namespace] = meta.data;
      resources[code][namespace] = texts;
      namespaces.add(namespace);
    }
  }

  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    ns: [...namespaces],
    defaultNS: namespaces.has('ussd') ? 'ussd' : [...namespaces][0],
    fallbackNS: [...namespaces],
    lng: config.data.default,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    showSupportNotice: false,
  } as Parameters<i18n['init']>[0]);

  return {
    languages: languages.map(({ code, name, ascii_spelling }) => ({ code, name, asciiSpelling: ascii_spelling ?? false })),
    defaultLanguage: config.data.default,
    t: (language, key, vars) => instance.t(key, { lng: language, ...vars }),
    has: (language, key) => instance.exists(key, { lng: language }),
    meta: (language) => metas[language] ?? {},
  };
}
