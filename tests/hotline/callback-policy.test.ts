import { dueTime, firstSafeMoment, insideWindow, moreUrgent } from '../../src/hotline/callback-policy';
import { onDuty } from '../../src/hotline/duty-rota';
import { handledInWindow, hotlineCsv } from '../../src/hotline/hotline-figures';
import type { CallbackRequest } from '../../src/hotline/hotline-store';

const at = (iso: string) => new Date(iso);

describe('the callers\u2019 safe windows and due times (Bamako = UTC)', () => {
  it('finds the first safe moment: now inside the window, else its next opening', () => {
    expect(firstSafeMoment('morning', at('2026-03-02T09:15:00Z'))).toEqual(at('2026-03-02T09:15:00Z'));
    expect(firstSafeMoment('evening', at('2026-03-02T09:15:00Z'))).toEqual(at('2026-03-02T17:00:00Z'));
    expect(firstSafeMoment('morning', at('2026-03-02T21:00:00Z'))).toEqual(at('2026-03-03T08:00:00Z'));
    expect(insideWindow('midday', at('2026-03-02T14:00:00Z'))).toBe(false);
  });

  it('makes a child in danger due within 30 minutes of the first safe moment, a normal request by the window\u2019s end', () => {
    expect(dueTime('evening', 'child_in_danger', at('2026-03-02T09:00:00Z'))).toEqual(at('2026-03-02T17:30:00Z'));
    expect(dueTime('evening', 'urgent', at('2026-03-02T17:10:00Z'))).toEqual(at('2026-03-02T18:10:00Z'));
    expect(dueTime('evening', 'normal', at('2026-03-02T17:10:00Z'))).toEqual(at('2026-03-02T20:00:00Z'));
    // Never past the window: 19:50 + 30 min would be outside it.
    expect(dueTime('evening', 'child_in_danger', at('2026-03-02T19:50:00Z'))).toEqual(at('2026-03-02T20:00:00Z'));
    expect(moreUrgent('normal', 'child_in_danger')).toBe('child_in_danger');
    expect(moreUrgent('urgent', 'normal')).toBe('urgent');
  });

  it('knows who is on duty, including shifts past midnight', () => {
    const night = { days: [1], from: '20:00', to: '06:00' }; // Monday night
    expect(onDuty(night, at('2026-03-02T21:00:00Z'))).toBe(true); // Monday 21:00
    expect(onDuty(night, at('2026-03-03T05:59:00Z'))).toBe(true); // Tuesday early morning
    expect(onDuty(night, at('2026-03-03T21:00:00Z'))).toBe(false); // Tuesday night
    expect(onDuty({ days: [1, 2], from: '08:00', to: '17:00' }, at('2026-03-02T17:00:00Z'))).toBe(false);
  });
});

describe('figures that identify no one', () => {
  const request = (fields: Partial<CallbackRequest>): CallbackRequest =>
    ({ _id: 'ABCDEF', createdAt: at('2026-03-02T09:00:00Z'), dueAt: at('2026-03-02T10:00:00Z'), window: 'morning', firstAttemptAt: null, closedAt: null, attempts: [], joined: [], outcome: null, language: 'bm', region: 'kayes', topic: 'case', urgency: 'normal', channel: 'ussd', status: 'new', ...fields }) as CallbackRequest;

  it('counts a first call inside the window and by its due time as handled in window', () => {
    expect(handledInWindow(request({ firstAttemptAt: at('2026-03-02T09:30:00Z') }))).toBe(true);
    expect(handledInWindow(request({ firstAttemptAt: at('2026-03-02T10:30:00Z') }))).toBe(false);
    expect(handledInWindow(request({}))).toBeNull();
  });

  it('quotes every CSV cell and defuses spreadsheet formulas', () => {
    const csv = hotlineCsv([request({ region: '=HYPERLINK("x")' })]);
    expect(csv).toContain('"\'=HYPERLINK(""x"")"');
    expect(csv.split('\r\n')).toHaveLength(3);
  });
});
