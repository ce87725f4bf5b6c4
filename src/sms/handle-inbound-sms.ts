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
import type { KeywordMatch } from '../texts/sms-keywords';
import type { SingleSmsJob } from '../gateway/sms-queue';
import { OTHER } from '../campaigns/campaign-poll';
import type { PollReplies } from '../campaigns/poll-replies';

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
  /** Replies to a poll campaign's question (campaigns/poll-replies.ts). */
  polls: PollReplies;
  texts: Texts;
  now(): Date;
  logger: Logger;
}

/** The window the message came in, else the next one to open: someone who can text now can likely talk soon. */
function windowAround(at: Date): CallbackWindow {
  const names = Object.keys(WINDOWS) as CallbackWindow[];
  return names.find((name) => insideWindow(name, at)) ?? names.find((name) => WINDOWS[name].from > at.getUTCHours()) ?? 'morning';
}

export type InboundOutcome =
  | { action: KeywordMatch['action'] | 'unknown'; reference?: string; ignored?: string }
  /** A reply to a poll: its category, or "other". */
  | { action: 'poll'; category: string };

/**
 * The reply to the poll this phone was last sent, inside its window: stored as its category (or "other", its
 * length only) and thanked once. undefined when there is no open poll, or the message is a JOIN or HELP keyword
 * that is none of the poll's replies (someone asking for help is never filed as "other"): it is handled as any SMS.
 */
async function answerPoll(
  deps: InboundDeps,
  sms: InboundSms,
  phone: string,
  at: Date,
  keyword: boolean,
): Promise<InboundOutcome | undefined> {
  const phoneHash = deps.protection.hash(phone);
  const open = await deps.polls.openFor(phoneHash, at);
  if (!open) return undefined;
  const category = deps.polls.categoryOf(open, sms.text);
  if (category === null || (category === OTHER && keyword)) return undefined;
  const outcome = await deps.polls.record(open, { phoneHash, category, text: sms.text, smsId: sms.id, at });
  const campaign = open.send.campaign;
  if (outcome === 'refused') {
    deps.logger.warn({ smsId: sms.id, campaign }, 'poll reply refused by the results store: handled as any SMS');
    return undefined;
  }
  // One thank-you per poll and person, however many replies: a reply never starts an exchange of SMS.
  const thanks = await deps.polls.thankOnce(open, phoneHash, deps.now());
  if (thanks.first) {
    const text = deps.texts.t(open.send.language, 'sms.poll_thanks');
    const job = { toSealed: deps.protection.encrypt(phone), text, purpose: 'poll.thanks', reference: campaign };
    await deps.queueSms(`poll-thanks:${sms.id}`, job).catch(async (err: unknown) => {
      await thanks.failed();
      throw err;
    });
  }
  deps.logger.info({ smsId: sms.id, campaign, category, outcome }, 'poll reply recorded');
  return { action: 'poll', category };
}

/**
 * A resident texted the short code. The first words decide: STOP opts out (in any language) and always wins;
 * then a reply to the poll this phone was last sent, while its window is open; then JOIN opts in, HELP asks the
 * hotline for a callback; anything else is counted and left. An empty message changes nothing. Safe to
 * receive twice (AT retries): the same message id changes nothing more.
 */
export async function handleInboundSms(deps: InboundDeps, sms: InboundSms): Promise<InboundOutcome> {
  const phone = toE164(sms.from);
  if (!phone) throw AppError.badRequest('from: not a phone number');
  const parsedDate = sms.date ? new Date(sms.date) : undefined;
  const at = parsedDate && !Number.isNaN(parsedDate.getTime()) && parsedDate.getTime() <= deps.now().getTime() ? parsedDate : deps.now();
  if (sms.text.trim() === '') {
    deps.logger.info({ smsId: sms.id }, 'empty inbound sms: nothing done');
    return { action: 'unknown', ignored: 'empty message' };
  }
  const match = deps.match(sms.text);
  if (match?.action !== 'stop') {
    const answered = await answerPoll(deps, sms, phone, at, match !== undefined);
    if (answered) return answered;
  }
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
