import { Router, type Request, type Response } from 'express';
import type { FlowEvent } from '../../flow-engine/types';
import type { Infrastructure } from '../../safeline';
import { analyzeText, screenLimit } from '../../shared/sms-encoding';
import { allow, staffOf, type StaffContext } from '../../staff/access';
import { consoleForbidden } from '../../staff/console-forbidden';
import { staffSurfaceOf } from '../../staff/staff-surface';
import { channelHopDeps } from '../ussd-module';
import { PHONE_CSS, PHONE_SCRIPT } from './phone-assets';
import { createConsolePhone, DIAL_CODE, PHONE_CHANNELS, PHONE_SESSION, type PhoneChannel, type TestCaller } from './phone-calls';
import { phoneLines, PhonePage, type PhoneDisplay } from './phone-view';

/** Who may use the phone: those who write flows' texts, quizzes and campaigns. */
const ROLES = ['campaign_manager', 'admin'] as const;
const DIALS = ['*321#', '*321*7#'];
const KEY = /^(?:[0-9*#]|call|clear|end|dial:\*[0-9*]{1,30}#)$/;
/** Event fields not worth showing: the engine's keyed session hash. */
const HIDDEN_FIELDS = new Set(['type', 'sitting']);

interface Settings {
  readonly channel: PhoneChannel;
  readonly language: string;
  readonly profileAsked: boolean;
}

/** The form as posted (by the page's script or without it): every field untrusted, anything else ignored. */
function readForm(body: unknown, languages: readonly string[]) {
  const fields = (body ?? {}) as Record<string, unknown>;
  const str = (name: string, max: number): string => {
    const value = fields[name];
    return typeof value === 'string' ? value.slice(0, max) : '';
  };
  const channelNamed = (name: string | undefined): PhoneChannel | undefined => PHONE_CHANNELS.find((known) => known === name);
  const [callChannel, session = ''] = str('call', 40).split(':');
  const onCall = channelNamed(callChannel);
  const settings: Settings = {
    channel: channelNamed(str('channel', 20)) ?? 'africastalking',
    language: languages.includes(str('language', 8)) ? str('language', 8) : '',
    profileAsked: str('asked', 2) === '1',
  };
  return {
    settings,
    call: onCall && PHONE_SESSION.test(session) ? { channel: onCall, session } : undefined,
    path: str('path', 2_000),
    input: str('input', 160),
    screen: str('screen', 2_000),
    key: KEY.test(str('key', 40)) ? str('key', 40) : 'call',
  };
}
type PhoneForm = ReturnType<typeof readForm>;

/** What the phone shows before its lines are drawn; `idle` names the text shown when no reply is on screen. */
type Shown = Omit<PhoneDisplay, 'lines' | 'info'> & { channel: PhoneChannel; end: boolean; idle?: 'idle' | 'ended' | 'not_a_code' };

/** The console's phone: GET shows it, POST presses a key (JSON for the page's script, the page again without it). */
export function consolePhonePages(infra: Infrastructure): Router {
  const router = Router();
  const { shell, audit } = staffSurfaceOf(infra);
  // Looked up at the first call: the ussd module builds the hop handler with its routes.
  const hops = () => channelHopDeps(infra);
  const phone = createConsolePhone({ hops, hopTimeoutMs: 3_000 });
  const texts = () => hops().africastalking.conversation.texts;

  router.get('/console/assets/phone.css', allow({ public: true }), (_req, res) => {
    res.type('css').set('cache-control', 'public, max-age=3600').send(PHONE_CSS);
  });
  router.get('/console/assets/phone.js', allow({ public: true }), (_req, res) => {
    res.type('js').set('cache-control', 'public, max-age=3600').send(PHONE_SCRIPT);
  });

  /** "Would create a callback request (reference: K7Q2XD, window: morning, ...)". */
  const effectText = (req: Request, event: FlowEvent): string => {
    const key = `phone.effect.${event.type.replace('.', '_')}`;
    const label = shell.t(req, key);
    const details = Object.entries(event)
      .filter(([name, value]) => !HIDDEN_FIELDS.has(name) && value !== undefined && value !== '')
      .map(([name, value]) => `${name}: ${typeof value === 'object' ? JSON.stringify(value) : String(value as string)}`);
    const what = label === key ? shell.t(req, 'phone.effect.other', { type: event.type }) : label;
    return details.length ? `${what} (${details.join(', ')})` : what;
  };

  const displayOf = (req: Request, shown: Shown) => {
    const { encoding, length } = analyzeText(shown.screen);
    const limit = screenLimit(encoding, hops()[shown.channel].conversation.limits);
    const kind = shell.t(req, shown.end ? 'phone.kind_end' : 'phone.kind_con');
    const info = shown.screen ? shell.t(req, 'phone.info', { kind, encoding, length: `${length}`, limit: `${limit}` }) : '';
    const lines = phoneLines(shown.screen || shell.t(req, `phone.${shown.idle ?? 'idle'}`));
    const { idle: _idle, ...display } = shown;
    return { ...display, lines, info, encoding, length, limit };
  };

  /** One key: the input line edited, the call ended, or a hop (a dial, or an answer to the screen on show). */
  const press = async (req: Request, staff: StaffContext, form: PhoneForm): Promise<Shown> => {
    const { settings, call, key } = form;
    const shown: Shown = {
      channel: call?.channel ?? settings.channel, call: call ? `${call.channel}:${call.session}` : '', path: form.path,
      input: form.input, screen: form.screen, end: !call && form.screen !== '', effects: [], fresh: false,
    };
    if (/^[0-9*#]$/.test(key)) return { ...shown, input: `${form.input}${key}` };
    if (key === 'clear') return { ...shown, input: form.input.slice(0, -1) };
    if (key === 'end') return { ...shown, call: '', path: '', screen: '', end: true, idle: 'ended' };
    const dialled = key.startsWith('dial:') ? key.slice(5) : call ? undefined : form.input.trim();
    if (dialled !== undefined && !DIAL_CODE.test(dialled)) return { ...shown, screen: '', end: false, idle: 'not_a_code' };
    const caller: TestCaller = { staffId: staff.user._id, language: settings.language, profileAsked: settings.profileAsked };
    const channel = dialled !== undefined ? settings.channel : shown.channel;
    try {
      const hop = dialled !== undefined
        ? await phone.dial(channel, caller, dialled)
        : await phone.answer(channel, caller, call?.session ?? '', form.path, form.input);
      if (hop.dropped.length) {
        const events = hop.dropped.map((event) => event.type).join(',');
        await audit.append({ actor: staff.user._id, action: 'ussd.test_events_dropped', ip: req.ip ?? '', details: { channel, events } });
      }
      const { end, text } = hop.screen;
      return {
        channel, call: end ? '' : `${channel}:${hop.session}`, path: end ? '' : hop.path, input: '', screen: text, end,
        effects: hop.dropped.map((event) => effectText(req, event)), fresh: dialled !== undefined,
      };
    } catch (err) {
      infra.logger.error({ err }, 'console phone hop failed');
      // What the gateway's caller would read.
      return { ...shown, channel, call: '', path: '', screen: texts().t(texts().defaultLanguage, 'common.apology'), end: true };
    }
  };

  const send = (req: Request, res: Response, settings: Settings, display: PhoneDisplay): void => {
    const staff = staffOf(res) as StaffContext;
    const limitsOf = (channel: PhoneChannel) => {
      const { gsm7, ucs2 } = hops()[channel].conversation.limits;
      return { gsm7: `${gsm7}`, ucs2: `${ucs2}` };
    };
    const channels = PHONE_CHANNELS.map((value) => ({ value, label: shell.t(req, `phone.channel_${value}`, limitsOf(value)) }));
    const languages = [
      { value: '', label: shell.t(req, 'phone.language_first_call') },
      ...texts().languages.map((language) => ({ value: language.code, label: language.name })),
    ];
    const t = (key: string, vars?: Record<string, string>) => shell.t(req, key, vars);
    const page = { t, csrfToken: staff.session.csrfToken, channels, languages, settings, display, dials: DIALS };
    const head = <><link rel="stylesheet" href="/console/assets/phone.css" /><script src="/console/assets/phone.js" defer></script></>;
    shell.page(req, res, shell.t(req, 'phone.title'), <PhonePage {...page} />, staff, head);
  };

  router.get('/console/phone', allow({ roles: ROLES }, { html: true }), (req, res) => {
    const settings: Settings = { channel: 'africastalking', language: '', profileAsked: false };
    const idle: Shown = { channel: settings.channel, call: '', path: '', input: '', screen: '', end: false, effects: [], fresh: false };
    send(req, res, settings, displayOf(req, idle));
  });

  router.post('/console/phone', allow({ roles: ROLES }, { html: true }), async (req, res) => {
    const form = readForm(req.body, texts().languages.map((language) => language.code));
    const display = displayOf(req, await press(req, staffOf(res) as StaffContext, form));
    if (req.accepts(['html', 'json']) === 'json') return void res.set('cache-control', 'no-store').json(display);
    send(req, res, form.settings, display);
  });

  router.use('/console', consoleForbidden(shell));
  return router;
}
