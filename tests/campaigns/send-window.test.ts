import { sendRate, textFor } from '../../src/campaigns/fan-out-campaign-run';
import { advanceOpenTime, isOpen, nextOpen } from '../../src/campaigns/send-window';

const at = (iso: string) => new Date(iso);
const DAY_WINDOW = { from: '08:00', to: '20:00' };

describe('quiet hours and pace (Bamako = UTC)', () => {
  it('knows when sending is allowed, including windows across midnight and "any time"', () => {
    expect(isOpen(DAY_WINDOW, at('2026-03-02T08:00:00Z'))).toBe(true);
    expect(isOpen(DAY_WINDOW, at('2026-03-02T20:00:00Z'))).toBe(false);
    expect(nextOpen(DAY_WINDOW, at('2026-03-02T21:30:00Z'))).toEqual(at('2026-03-03T08:00:00Z'));
    expect(nextOpen(DAY_WINDOW, at('2026-03-02T06:00:00Z'))).toEqual(at('2026-03-02T08:00:00Z'));
    const night = { from: '22:00', to: '02:00' };
    expect(isOpen(night, at('2026-03-02T23:00:00Z'))).toBe(true);
    expect(isOpen(night, at('2026-03-03T01:59:00Z'))).toBe(true);
    expect(isOpen(night, at('2026-03-03T12:00:00Z'))).toBe(false);
    expect(isOpen({ from: '00:00', to: '00:00' }, at('2026-03-03T03:00:00Z'))).toBe(true);
  });

  it('spreads sends over open time only: what does not fit today goes on tomorrow morning', () => {
    // Two hours of sending that starts at 19:00: one hour today, one tomorrow from 08:00.
    expect(advanceOpenTime(DAY_WINDOW, at('2026-03-02T19:00:00Z'), 2 * 3_600_000)).toEqual(at('2026-03-03T09:00:00Z'));
    expect(advanceOpenTime(DAY_WINDOW, at('2026-03-02T05:00:00Z'), 0)).toEqual(at('2026-03-02T08:00:00Z'));
  });

  it('sends at the slowest of the campaign\u2019s limit, its deadline and the gateway\u2019s ceiling', () => {
    expect(sendRate({ spread: { maxPerSecond: 10, finishWithinHours: null } }, 1_000, 100)).toBe(10);
    expect(sendRate({ spread: { maxPerSecond: null, finishWithinHours: 1 } }, 36_000, 100)).toBe(10);
    expect(sendRate({ spread: { maxPerSecond: null, finishWithinHours: null } }, 1_000, 100)).toBe(100);
  });

  it('sends the ASCII spelling only for languages the campaign chose it for', () => {
    const campaign = { texts: { bm: 'Baara ɲuman', fr: 'Un vrai emploi' }, asciiLanguages: ['bm'] };
    expect(textFor(campaign, 'bm')).toBe('Baara nyuman');
    expect(textFor(campaign, 'fr')).toBe('Un vrai emploi');
    expect(textFor(campaign, 'en')).toBeUndefined();
  });
});
