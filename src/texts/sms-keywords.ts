import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export type KeywordAction = 'stop' | 'join' | 'help';
export interface KeywordMatch {
  action: KeywordAction;
  /** The language whose keyword matched: replies and new subscribers use it. */
  language: string;
  /** What follows the keyword ("JOIN migration" -> "MIGRATION"). */
  rest: string;
}

const schema = z.record(
  z.string().regex(/^[a-z]{2,3}$/),
  z.strictObject({ stop: z.array(z.string().min(1)).min(1), join: z.array(z.string().min(1)), help: z.array(z.string().min(1)) }),
);

/** Upper case, no accents, single spaces: "  Arrêt  " -> "ARRET". */
export const normalizeKeyword = (text: string): string =>
  text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toUpperCase().replace(/[^\p{L}\p{N} ]+/gu, ' ').replace(/\s+/g, ' ').trim();

/**
 * templates/keywords.yaml: per language, the words that stop, join or ask for help. STOP words are
 * checked first in every language: when in doubt, a message that could mean "stop" stops.
 */
export function loadKeywords(templatesDir: string): (text: string) => KeywordMatch | undefined {
  const parsed = schema.safeParse(parse(readFileSync(join(templatesDir, 'keywords.yaml'), 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `templates/keywords.yaml: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const entries: Array<{ action: KeywordAction; language: string; word: string }> = [];
  for (const action of ['stop', 'join', 'help'] as const) {
    for (const [language, words] of Object.entries(parsed.data)) {
      for (const word of words[action]) entries.push({ action, language, word: normalizeKeyword(word) });
    }
  }
  return (text) => {
    const normalized = normalizeKeyword(text);
    for (const entry of entries) {
      if (normalized === entry.word || normalized.startsWith(`${entry.word} `)) {
        return { action: entry.action, language: entry.language, rest: normalized.slice(entry.word.length).trim() };
      }
    }
    return undefined;
  };
}
