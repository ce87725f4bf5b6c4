import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTexts } from '../../src/texts/texts';
import { checkScreens } from '../../src/ussd/check-flows';
import { formatProblem } from '../../src/ussd/load-flows';
import { loadFixtureFlows, readFixture } from './flow-fixtures';

const dir = join(__dirname, '../fixtures/flows/broken');
const texts = loadTexts(join(__dirname, '../fixtures/texts'));
const limits = { gsm7: 160, ucs2: 80 };
const keys = { more: '98', back: '0', home: '00' };

describe('broken flows', () => {
  it.each(readdirSync(dir).filter((file) => file.endsWith('.yaml')))('%s produces its error', (file) => {
    const fixture = readFixture(join(dir, file));
    expect(fixture.expectedError).toBeDefined();
    const { set, problems } = loadFixtureFlows(fixture);
    const all = problems.length ? problems : checkScreens(set, texts, limits, keys).problems;
    const messages = all.map(formatProblem);
    const expected = fixture.expectedError ?? '';
    const matches = (message: string): boolean => {
      if (message.includes(expected)) return true;
      try {
        return new RegExp(expected).test(message);
      } catch {
        return false;
      }
    };
    expect({ file, messages }).toEqual({ file, messages: expect.arrayContaining([expect.any(String)]) as unknown });
    expect(messages.filter(matches)).not.toEqual([]);
  });
});
