import { z } from 'zod';
import { toAsciiSpelling } from '../shared/sms-encoding';
import { normalizeKeyword, type KeywordMatch } from '../texts/sms-keywords';

/** The category of a reply that is in none of the poll's: kept with its length only, never its text. */
export const OTHER = 'other';

/**
 * A campaign that asks a question: its message is the question, and each recipient's SMS reply within
 * `windowHours` of the send is sorted into one of the categories (one result per campaign and respondent).
 */
export interface CampaignPoll {
  /** What is measured (`knows_hotline`): the result's name in `results`. */
  result: string;
  categories: Array<{ name: string; replies: Record<string, string[]> }>;
  windowHours: number;
}

const reply = z.string().trim().min(1).max(40);
export const pollInput = z.strictObject({
  result: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _ (e.g. knows_hotline)'),
  categories: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _ (e.g. yes)')
          .refine((name) => name !== OTHER, `"${OTHER}" is kept for replies in no category`),
        replies: z.record(z.string().regex(/^[a-z]{2,3}$/), z.array(reply).max(10)),
      }),
    )
    .min(1, 'give at least one category')
    .max(9),
  windowHours: z.number().positive().max(720),
});

/**
 * A reply as it is compared: what STOP is compared as (case, accents, punctuation and surrounding spaces
 * ignored), Bambara's letters in their ASCII spelling (phones without ɔ send "owo" for "ɔwɔ"), and digits
 * of any script as 0-9 (N'Ko's ߁ is 1).
 */
export const foldReply = (text: string): string => normalizeKeyword(toAsciiSpelling(text).replace(/\p{Nd}/gu, asciiDigit));

/** Unicode puts each script's digits 0 to 9 in a row (runs of ten back to back): a digit's value is its place in its run. */
function asciiDigit(digit: string): string {
  const code = digit.codePointAt(0) ?? 0;
  let first = code;
  while (/\p{Nd}/u.test(String.fromCodePoint(first - 1))) first -= 1;
  return String((code - first) % 10);
}

const isDigits = (folded: string): boolean => /^[0-9]+$/.test(folded);

/**
 * What is wrong with a poll, in words a manager can act on (empty: nothing). `languages`: the campaign's
 * texts' languages; `keyword`: the inbound SMS keywords, whose STOP words always win over a reply.
 */
export function pollProblems(poll: CampaignPoll, languages: readonly string[], keyword: (text: string) => KeywordMatch | undefined) {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const names = new Set<string>();
  for (const category of poll.categories) {
    if (names.has(category.name)) problems.push(`category "${category.name}" is given twice`);
    names.add(category.name);
    for (const [language, words] of Object.entries(category.replies)) {
      for (const word of words) {
        const folded = foldReply(word);
        if (!folded) problems.push(`reply "${word}" (${language}) has no letter or digit`);
        else if (keyword(folded)?.action === 'stop') problems.push(`reply "${word}" is an opt-out keyword: it would stop the person`);
        // Digits are read in every language: "1" is one reply across languages.
        const key = isDigits(folded) ? folded : `${language}:${folded}`;
        const owner = seen.get(key);
        if (owner !== undefined && owner !== category.name) {
          problems.push(`reply "${word}" is in both "${owner}" and "${category.name}"`);
        }
        seen.set(key, category.name);
      }
    }
    const hasDigits = Object.values(category.replies).flat().some((word) => isDigits(foldReply(word)));
    const unanswerable = languages.filter((language) => !hasDigits && !(category.replies[language]?.length));
    if (unanswerable.length) problems.push(`category "${category.name}" has no reply in ${unanswerable.join(', ')} and no digit`);
  }
  return [...new Set(problems)];
}

/** A reply's category in the recipient's language (digits in any): a name, OTHER, or null for an empty reply. */
export function categoryOf(poll: CampaignPoll, language: string, text: string): string | null {
  if (text.trim() === '') return null;
  const folded = foldReply(text);
  for (const category of poll.categories) {
    for (const [replyLanguage, words] of Object.entries(category.replies)) {
      for (const word of words) {
        const foldedWord = foldReply(word);
        if (foldedWord === folded && (replyLanguage === language || isDigits(foldedWord))) return category.name;
      }
    }
  }
  return OTHER;
}

/** The flow name a poll's results are stored under. */
export const pollFlowOf = (campaignId: string): string => `poll:${campaignId}`;
