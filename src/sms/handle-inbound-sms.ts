import { WINDOWS, insideWindow, type CallbackWindow } from '../hotline/callback-policy';
import type { HotlineIntake } from '../hotline/hotline-intake';
import { AppError } from '../platform/app-error';
import type { Logger } from '../platform/logger';
import { coveredBlock, type SmsRoute } from '../gateway/route-table';
import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import { TOPICS, isTopic } from '../subscribers/topics';
import type { Texts } from '../texts/texts';
import type { KeywordMatch } from './sms-keywords';
import type { SingleSmsJob } from '../gateway/sms-queue';

/** AT's incoming-message fields (all untrusted). */
export interface InboundSms {
  from: string;
  to: string;
  text: string;
  id: string;
  date?: string;
  linkId?: string;
}

export interface InboundDeps {
  match(text: string): KeywordMatch | undefined;
  subscribers: SubscriberStore;
  optouts: OptOutSet;
  hotline: HotlineIntake;
  /** A fresh reference code (allocated, unique: see hotline/reference-codes.ts). */
  newReference(): Promise<string>;
  protection: PhoneProtection;
  /** Where SMS leave, by number: JOIN from a number no route covers subscribes nothing (nothing could reach it). */
  routes: readonly SmsRoute[];
  queueSms(jobId: string, job: SingleSmsJob): Promise<void>;
  texts: Texts;
  now(): Date;
  logger: Logger;
}

/** The window the message came in, else the next one to open: someone who can text now can likely talk soon. */
function windowAround(at: Date): CallbackWindow {
  const names = Object.keys(WINDOWS) as CallbackWindow[];
  return names.find((name) => insideWindow(name, at)) ?? names.find((name) => WINDOWS[name].from > at.getUTCHours()) ?? 'morning';
}

/**
 * A resident texted the short code. The first words decide: STOP opts out (in any language),
 * JOIN opts in, HELP asks the hotline for a callback; anything else is counted and left. Safe to
 * receive twice (AT retries): the same message id changes nothing more.
 */
export async function handleInboundSms(
  deps: InboundDeps,
  sms: InboundSms,
): Promise<{ action: KeywordMatch['action'] | 'unknown'; reference?: string }> {
  const phone = toE164(sms.from);
  if (!phone) throw AppError.badRequest('from: not a phone number');
  const parsedDate = sms.date ? new Date(sms.date) : undefined;
  const at = parsedDate && !Number.isNaN(parsedDate.getTime()) && parsedDate.getTime() <= deps.now().getTime() ? parsedDate : deps.now();
  const match = deps.match(sms.text);
  if (!match) {
    deps.logger.info({ smsId: sms.id, chars: [...sms.text].length }, 'inbound sms without a keyword');
    return { action: 'unknown' };
  }
  const phoneHash = deps.protection.hash(phone);
  const phoneSealed = deps.protection.encrypt(phone);
  const reply = (key: string, vars?: Record<string, string>) =>
    deps.queueSms(`inbound-reply:${sms.id}`, {
      toSealed: phoneSealed,
      text: deps.texts.t(match.language, key, vars),
      purpose: `inbound.${match.action}`,
      reference: sms.id,
    });

  switch (match.action) {
    case 'stop':
      // The set senders check follows MongoDB: an older STOP that lost to a newer JOIN changes neither.
      if (await deps.subscribers.optOut(phoneHash, 'sms', `sms ${sms.id}: stop keyword`, at)) await deps.optouts.add(phoneHash);
      await reply('sms.stop_reply');
      break;
    case 'join': {
      const topic = match.rest.toLowerCase();
      const numberBlock = coveredBlock(deps.routes, phone);
      if (!numberBlock) {
        deps.logger.warn({ smsId: sms.id, action: match.action }, 'inbound join not subscribed: no SMS route covers the number');
        return { action: 'join' };
      }
      const joined = await deps.subscribers.optIn({
        phoneHash, phoneSealed, numberBlock, language: match.language, source: 'sms',
        evidence: `sms ${sms.id}: join keyword`, topics: isTopic(topic) ? [topic] : [...TOPICS],
      }, at);
      if (joined) await deps.optouts.remove(phoneHash);
      await reply('sms.join_reply');
      break;
    }
    case 'help': {
      // The message id makes it once (AT resends); the code it is stored under is the one the reply tells.
      const { reference } = await deps.hotline.recordCallbackRequest(
        {
          reference: await deps.newReference(),
          eventKey: `sms:${sms.id}`,
          phoneHash,
          phoneSealed,
          language: match.language,
          window: windowAround(at),
          topic: 'other',
          urgency: 'normal',
          region: '',
          confirmBySms: false,
          channel: 'sms',
        },
        at,
      );
      await reply('sms.callback_confirmation', { ref: reference });
      deps.logger.info({ smsId: sms.id, action: match.action, language: match.language, reference }, 'inbound sms handled');
      return { action: 'help', reference };
    }
  }
  deps.logger.info({ smsId: sms.id, action: match.action, language: match.language }, 'inbound sms handled');
  return { action: match.action };
}
