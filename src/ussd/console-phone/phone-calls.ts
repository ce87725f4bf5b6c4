import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { FlowEvent } from '../../flow-engine/types';
import { ALPHABET, CODE_PATTERN } from '../../hotline/reference-code-space';
import { withTimeout } from '../../platform/with-timeout';
import { analyzeText, screenLimit, type SmsEncoding } from '../../shared/sms-encoding';
import { handleUssdRequest } from '../channels/africastalking';
import { metaGroup, USSD_OP } from '../channels/kannel-meta';
import { createTrails, handleKannelUssd } from '../channels/kannel-smpp';
import type { HandleUssdDeps } from '../handle-hop';
import type { LanguageProfile } from '../session-store';
import type { ChannelHopDeps } from '../ussd-module';

/**
 * The console's phone: a staff member dials the flows through the channels' own hop functions (AT's
 * `handleUssdRequest`, Kannel's `handleKannelUssd`), as the gateways' requests are answered, from a test
 * number, in a session marked test. Its events are returned to be shown, never handed on (see TestCalls).
 */
export const PHONE_CHANNELS = ['africastalking', 'kannel'] as const;
export type PhoneChannel = (typeof PHONE_CHANNELS)[number];

/** Who is calling: the console sets the caller's language ('' for a first call, asked) and whether the profile was asked. */
export interface TestCaller {
  readonly staffId: string;
  readonly language: string;
  readonly profileAsked: boolean;
}

/** One screen as the phone shows it, with the figures of the page the channel carried. */
export interface PhoneScreen {
  readonly text: string;
  readonly end: boolean;
  readonly encoding: SmsEncoding;
  readonly length: number;
  /** The channel's limit for this page's encoding. */
  readonly limit: number;
}

/** A hop's outcome: the screen, the session to carry on, and the events the test dropped. */
export interface PhoneHop {
  readonly session: string;
  /** AT's `text` so far (AT's network keeps it; here the page does). */
  readonly path: string;
  readonly screen: PhoneScreen;
  readonly dropped: readonly FlowEvent[];
}

/** The console's session names: 16 hex digits, chosen here, never by the page. */
export const PHONE_SESSION = /^[0-9a-f]{16}$/;
/** A USSD code as a phone dials it: *321# or *321*7#. */
export const DIAL_CODE = /^\*(\d{1,6})((?:\*\d{1,6}){0,4})#$/;
const KANNEL_SMSC = 'console-phone';

/**
 * A staff member's test number: +999 (a country code the ITU has not given out) and nine digits from
 * their id, so that no resident's number is ever used and each tester has their own resume offer.
 */
export function testNumberOf(staffId: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(`console-phone:${staffId}`).digest('hex').slice(0, 15)}`) % 1_000_000_000n;
  return `+999${digits.toString().padStart(9, '0')}`;
}

/** Codes of the same shape as the hotline's, drawn at random and never reserved: a test takes none of the real ones. */
function testReferenceCode(): string {
  let code = '';
  while (!CODE_PATTERN.test(code)) code = Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return code;
}

export function createConsolePhone(options: { hops: () => ChannelHopDeps; hopTimeoutMs: number }) {
  // Kannel's channel keeps each session's path in the process too; the console's sessions have their own.
  const trails = createTrails({ maxEntries: 1_000, ttlMs: 10 * 60_000 });

  const testDeps = (channel: PhoneChannel, caller: TestCaller, dropped: FlowEvent[]): HandleUssdDeps => {
    const profile: LanguageProfile | null =
      caller.language || caller.profileAsked ? { language: caller.language, ...(caller.profileAsked ? { profileAsked: true } : {}) } : null;
    const { counters: _counted, refused: _refusedOnGatewayRoute, ...deps } = options.hops()[channel];
    return {
      ...deps,
      // Not counted against the gateways' rate limits nor their refusal figures.
      referenceCodes: { prepare: () => Promise.resolve(), take: testReferenceCode },
      test: { profile, dropped: (events) => dropped.push(...events) },
    };
  };

  const screenOf = (channel: PhoneChannel, end: boolean, text: string): PhoneScreen => {
    const { encoding, length } = analyzeText(text);
    return { text, end, encoding, length, limit: screenLimit(encoding, options.hops()[channel].conversation.limits) };
  };

  async function hop(channel: PhoneChannel, caller: TestCaller, session: string, path: string, typed: { dial?: string; input?: string }) {
    const dropped: FlowEvent[] = [];
    const deps = testDeps(channel, caller, dropped);
    const phoneNumber = testNumberOf(caller.staffId);
    const dial = typed.dial === undefined ? undefined : DIAL_CODE.exec(typed.dial);
    if (channel === 'africastalking') {
      // AT's first hop of *321*7# carries "7"; every later hop everything typed so far, "*"-joined.
      const text = dial ? (dial[2] ?? '').slice(1) : path === '' ? (typed.input ?? '') : `${path}*${typed.input ?? ''}`;
      const serviceCode = dial ? `*${dial[1] ?? ''}#` : '';
      const request = { sessionId: `console-phone-${session}`, serviceCode, phoneNumber, networkCode: '', text };
      const answer = await withTimeout(handleUssdRequest(deps, request), options.hopTimeoutMs, 'console phone hop');
      return { session, path: text, screen: screenOf(channel, answer.startsWith('END'), answer.slice(4)), dropped };
    }
    // Kannel: the dial carries the code (op 1), each answer what was typed on that screen (op 18).
    const request = {
      smsc: KANNEL_SMSC, phoneNumber, session: Buffer.from(session, 'hex'),
      op: dial ? USSD_OP.pssrIndication : USSD_OP.ussrConfirm, text: dial ? (typed.dial ?? '') : (typed.input ?? ''),
    };
    const reply = await withTimeout(handleKannelUssd({ hop: deps, trails }, request), options.hopTimeoutMs, 'console phone hop');
    const op = metaGroup(reply.headers['x-kannel-meta-data'] ?? '', 'smpp')?.get('ussd_service_op')?.toString();
    const end = op === String(USSD_OP.pssrResponse);
    return { session, path: '', screen: screenOf(channel, end, reply.body), dropped };
  }

  return {
    /** Dials a code: a new test session. */
    dial: (channel: PhoneChannel, caller: TestCaller, code: string): Promise<PhoneHop> =>
      hop(channel, caller, randomBytes(8).toString('hex'), '', { dial: code }),
    /** Answers the screen on show. */
    answer: (channel: PhoneChannel, caller: TestCaller, session: string, path: string, input: string): Promise<PhoneHop> =>
      hop(channel, caller, session, path, { input }),
  };
}

export type ConsolePhone = ReturnType<typeof createConsolePhone>;
