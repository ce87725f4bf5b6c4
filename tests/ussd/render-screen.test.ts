import { join } from 'node:path';
import { analyzeText, toAsciiSpelling } from '../../src/shared/sms-encoding';
import { loadTexts } from '../../src/texts/texts';
import { renderScreen } from '../../src/ussd/render-screen';

const texts = loadTexts(join(__dirname, '../../templates'));
const keys = { more: '98', back: '0', home: '00' };

describe('GSM-7 and UCS-2', () => {
  it('counts septets, extension characters twice, and parts', () => {
    expect(analyzeText('Bonjour à tous')).toMatchObject({ encoding: 'GSM-7', length: 14, parts: 1 });
    expect(analyzeText('€[]')).toMatchObject({ encoding: 'GSM-7', length: 6 });
    expect(analyzeText('a'.repeat(161))).toMatchObject({ parts: 2 });
    expect(analyzeText('Être')).toMatchObject({ encoding: 'UCS-2', length: 4, nonGsmCharacters: ['Ê'] });
    expect(analyzeText('ɛ'.repeat(71))).toMatchObject({ encoding: 'UCS-2', parts: 2 });
  });

  it('spells Bambara in ASCII for SMS when asked', () => {
    expect(toAsciiSpelling('Mɔgɔ jago bali, ɲɛnajɛ, ŋaniya')).toBe('Mogo jago bali, nyenaje, nganiya');
    expect(analyzeText(toAsciiSpelling('Mɔgɔ jago bali')).encoding).toBe('GSM-7');
  });
});

describe('renderScreen', () => {
  it('splits a long text into pages that fit, with 98 and 0 where they belong', () => {
    for (const language of ['fr', 'bm', 'en']) {
      const screen = { end: false, body: [{ key: 'learn.tricks.text' }], options: [{ number: 1, label: { key: 'learn.other_topics' } }] };
      const { pages } = renderScreen(screen, texts, language, { gsm7: 160, ucs2: 80 }, keys);
      expect(pages.length).toBeGreaterThan(1);
      pages.forEach((page, index) => {
        expect(page.length).toBeLessThanOrEqual(page.encoding === 'GSM-7' ? 160 : 80);
        expect(page.text.includes(`\n98. ${texts.t(language, 'common.more')}`)).toBe(index < pages.length - 1);
        expect(page.text.includes(`0. ${texts.t(language, 'common.back')}`)).toBe(index > 0);
      });
      // Nothing is lost between pages.
      const joined = pages.map((page) => page.text.split('\n').filter((line) => !/^(98|0)\. /.test(line)).join(' ')).join(' ');
      expect(joined.replace(/\s+/g, ' ')).toContain(texts.t(language, 'learn.tricks.text').replace(/\s+/g, ' ').slice(-30));
    }
  });

  it('cuts words longer than a page, whatever comes before them, so every page fits', () => {
    const long = { languages: [{ code: 'bm', name: 'Bamanankan', asciiSpelling: true }], defaultLanguage: 'bm', meta: () => ({}), has: () => true,
      t: (_language: string, key: string) => (key === 'x' ? `${'ɛ '.repeat(5)}${'ɲ'.repeat(150)} kɔ ${'a'.repeat(300)}` : key === 'common.more' ? 'A tɔ' : 'Segin') };
    const { pages } = renderScreen({ end: false, body: [{ key: 'x' }], options: [] }, long, 'bm', { gsm7: 160, ucs2: 80 }, keys);
    expect(pages.length).toBeGreaterThan(4);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(page.encoding === 'GSM-7' ? 160 : 80);
  });

  it('keeps an END text that needs pages as CON until its last page', () => {
    const screen = { end: true, body: [{ key: 'learn.tricks.text' }], options: [] };
    const { pages } = renderScreen(screen, texts, 'bm', { gsm7: 160, ucs2: 80 }, keys);
    expect(pages.map((page) => page.continues)).toEqual([...pages.slice(1).map(() => true), false]);
  });
});
