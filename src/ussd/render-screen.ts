import type { Screen } from '../flow-engine/types';
import { analyzeText, screenLimit, type SmsEncoding } from '../shared/sms-encoding';
import type { Texts } from '../texts/texts';

export interface ScreenLimits {
  /** Characters on one screen when the text is GSM-7. */
  readonly gsm7: number;
  /** Characters on one screen when the text needs UCS-2. */
  readonly ucs2: number;
}

export interface PagingKeys {
  readonly more: string;
  readonly back: string;
  readonly home: string;
}

export interface RenderedPage {
  readonly text: string;
  readonly encoding: SmsEncoding;
  readonly length: number;
  /** false only on the last page of an END screen. */
  readonly continues: boolean;
}

/** A screen split into pages that each fit the limit, with "98 More" / "0 Back" where needed. */
export interface RenderedScreen {
  readonly pages: readonly RenderedPage[];
  readonly end: boolean;
}

const fits = (text: string, limits: ScreenLimits): boolean => {
  const { encoding, length } = analyzeText(text);
  return length <= screenLimit(encoding, limits);
};

/** Splits one paragraph into pieces at word boundaries (a single over-long word is cut). */
function pieces(paragraph: string): string[] {
  return paragraph.split(/(?<=\s)/);
}

/**
 * Translates a screen and paginates it. Option lines are never split; long paragraphs break
 * between words. Every page but the last shows "98. More", every page but the first "0. Back".
 */
export function renderScreen(screen: Screen, texts: Texts, language: string, limits: ScreenLimits, keys: PagingKeys): RenderedScreen {
  const t = (key: string, vars?: Readonly<Record<string, string>>): string => texts.t(language, key, vars).trim();
  const blocks: string[] = [];
  if (screen.notice) blocks.push(t(screen.notice.key, screen.notice.vars));
  for (const ref of screen.body) blocks.push(...t(ref.key, ref.vars).split(/\n+/));
  const optionLines = screen.options.map((option) => `${option.number}. ${t(option.label.key, option.label.vars)}`);

  const whole = [...blocks, ...optionLines].join('\n');
  if (fits(whole, limits)) return { end: screen.end, pages: [page(whole, !screen.end)] };

  const moreLine = `${keys.more}. ${t('common.more')}`;
  const backLine = `${keys.back}. ${t('common.back')}`;
  // Units that pagination keeps whole: option lines; paragraphs are cut into words.
  const units: Array<{ text: string; breakBefore: boolean; option?: boolean }> = [];
  for (const block of blocks) pieces(block).forEach((piece, index) => units.push({ text: piece, breakBefore: index === 0 }));
  for (const line of optionLines) units.push({ text: line, breakBefore: true, option: true });

  const texts_: string[] = [];
  let current = '';
  const footer = (isFirst: boolean, isLast: boolean): string =>
    [isFirst ? undefined : backLine, isLast ? undefined : moreLine].filter(Boolean).join('\n');
  const compose = (body: string, isFirst: boolean, isLast: boolean): string =>
    [body.trimEnd(), footer(isFirst, isLast)].filter(Boolean).join('\n');

  for (let i = 0; i < units.length; i += 1) {
    const unit = units[i];
    if (!unit) continue;
    const joined = current === '' ? unit.text : `${current}${unit.breakBefore ? '\n' : ''}${unit.text}`;
    const isFirst = texts_.length === 0;
    const isLast = i === units.length - 1;
    if (fits(compose(joined, isFirst, isLast), limits) || (isLast && fits(compose(joined, isFirst, true), limits))) {
      current = joined;
      continue;
    }
    if (current === '' && unit.option) {
      // An option line longer than a page stays whole: flows:check reports the page as too long.
      texts_.push(unit.text);
      continue;
    }
    if (current === '') {
      // One word longer than a page: cut it.
      const foot = footer(isFirst, false);
      // The page's encoding is that of the word and the paging marks together (UCS-2 if either needs it).
      const room = screenLimit(analyzeText(unit.text + foot).encoding, limits) - analyzeText(foot).length - 1;
      texts_.push(unit.text.slice(0, Math.max(room, 1)));
      units.splice(i + 1, 0, { text: unit.text.slice(Math.max(room, 1)), breakBefore: false });
      continue;
    }
    texts_.push(current);
    current = '';
    // Start the unit again on a fresh page, where an over-long word is cut to fit.
    units[i] = { ...unit, text: unit.text.trimStart() };
    i -= 1;
  }
  if (current !== '') texts_.push(current);

  const pages = texts_.map((body, index) => {
    const isLast = index === texts_.length - 1;
    return page(compose(body, index === 0, isLast), !(isLast && screen.end));
  });
  return { end: screen.end, pages };
}

function page(text: string, continues: boolean): RenderedPage {
  const { encoding, length } = analyzeText(text);
  return { text, encoding, length, continues };
}
