import { CsrfField } from '../../web/form';
import type { PhoneChannel } from './phone-calls';

/** Characters on one line of a basic phone's screen: the reply wraps there, as the handset wraps it. */
export const SCREEN_COLUMNS = 22;

/** A screen's text in the phone's lines: words kept whole where they fit, a longer word cut at the edge. */
export function phoneLines(text: string, columns = SCREEN_COLUMNS): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line: string[] = [];
    for (const word of paragraph.split(/ +/).filter(Boolean).map((part) => Array.from(part))) {
      if (line.length && line.length + 1 + word.length <= columns) {
        line.push(' ', ...word);
        continue;
      }
      if (line.length) lines.push(line.join(''));
      let rest = word;
      while (rest.length > columns) {
        lines.push(rest.slice(0, columns).join(''));
        rest = rest.slice(columns);
      }
      line = rest;
    }
    lines.push(line.join(''));
  }
  return lines;
}

/** What the phone shows after a key: its screen, the figures of the page, the call to carry on, what the call would have done. */
export interface PhoneDisplay {
  /** The call on the line ("<channel>:<id>"), '' when none. */
  readonly call: string;
  /** AT's text so far. */
  readonly path: string;
  readonly input: string;
  /** The last reply as the channel carried it ('' when none): kept by the page while only the input line changes. */
  readonly screen: string;
  readonly lines: readonly string[];
  readonly info: string;
  readonly effects: readonly string[];
  /** This key started a call: the page forgets the last call's effects. */
  readonly fresh: boolean;
}

export interface PhonePageProps {
  readonly t: (key: string, vars?: Record<string, string>) => string;
  readonly csrfToken: string;
  readonly channels: ReadonlyArray<{ value: PhoneChannel; label: string }>;
  readonly languages: ReadonlyArray<{ value: string; label: string }>;
  readonly settings: { readonly channel: PhoneChannel; readonly language: string; readonly profileAsked: boolean };
  readonly display: PhoneDisplay;
  readonly dials: readonly string[];
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** The page: the handset (screen, input line, keypad), the caller's settings and dial buttons, and what the call would have done. */
export function PhonePage({ t, csrfToken, channels, languages, settings, display, dials }: PhonePageProps) {
  const key = (value: string, label: string, className?: string) => (
    <button type="submit" name="key" value={value} class={className}>{label}</button>
  );
  return (
    <>
      <h1>{t('phone.title')}</h1>
      <p>{t('phone.help')}</p>
      <form id="phone" class="phone-bench" method="post" action="/console/phone" data-failed={t('phone.failed')}>
        <CsrfField token={csrfToken} />
        <input type="hidden" name="call" value={display.call} />
        <input type="hidden" name="path" value={display.path} />
        <input type="hidden" name="screen" value={display.screen} />
        {/* The handset first: its call key is the form's default button, the one Enter presses. */}
        <div class="handset">
          <pre id="phone-screen" class="phone-screen" aria-label={t('phone.screen')} aria-live="polite">{display.lines.join('\n')}</pre>
          <p id="phone-info" class="screen-info">{display.info}</p>
          <label for="phone-input">{t('phone.input')}</label>
          <input id="phone-input" name="input" value={display.input} autocomplete="off" maxLength={160} />
          <div class="keypad" role="group" aria-label={t('phone.keypad')}>
            {key('call', t('phone.key_call'), 'call')}
            {key('clear', t('phone.key_clear'), 'clear')}
            {key('end', t('phone.key_end'), 'end')}
            {KEYS.map((digit) => key(digit, digit))}
          </div>
        </div>
        <fieldset class="phone-settings">
          <legend>{t('phone.settings')}</legend>
          <label for="phone-channel">{t('phone.channel')}</label>
          <select id="phone-channel" name="channel">
            {channels.map((option) => <option value={option.value} selected={option.value === settings.channel}>{option.label}</option>)}
          </select>
          <label for="phone-language">{t('phone.language')}</label>
          <select id="phone-language" name="language">
            {languages.map((option) => <option value={option.value} selected={option.value === settings.language}>{option.label}</option>)}
          </select>
          <p class="inline-options">
            <label><input type="checkbox" name="asked" value="1" checked={settings.profileAsked} /> {t('phone.profile_asked')}</label>
          </p>
          <p>{t('phone.settings_note')}</p>
          <p class="phone-dials">{dials.map((code) => key(`dial:${code}`, t('phone.dial', { code })))}</p>
        </fieldset>
        <section class="phone-effects" aria-labelledby="phone-effects-title">
          <h2 id="phone-effects-title">{t('phone.effects_title')}</h2>
          <ul id="phone-effects" data-none={t('phone.effects_none')}>
            {display.effects.length ? display.effects.map((effect) => <li>{effect}</li>) : <li class="none">{t('phone.effects_none')}</li>}
          </ul>
          <p>{t('phone.effects_note')}</p>
        </section>
      </form>
    </>
  );
}
