import type { RateCounter, RefusalReason } from '../platform/callback-guard';
import type { Logger } from '../platform/logger';
import type { PhoneProtection } from '../shared/phone-protection';
import { toFlowEventJobs, type FlowEventJob } from './apply-flow-events';
import { profileAskedAtStart, profileAskedFields, withProfileAsked, type CallerProfiles } from './caller-profiles';
import type { FlowEvent, StepContext } from '../flow-engine/types';
import { answer, begin, languageOf, replay, type ConversationDeps, type Turn } from './conversation';
import { SessionStoreUnavailable, type HopSnapshot, type LanguageProfile, type SessionStore, type StoredSession } from './session-store';
import type { Reply } from './conversation';

export interface HandleUssdDeps {
  readonly conversation: ConversationDeps;
  readonly sessions: SessionStore;
  readonly profiles: CallerProfiles;
  readonly protection: PhoneProtection;
  /** Writes events straight to MongoDB when Redis cannot keep them; returns told codes stored under others. */
  readonly applyDirectly: (jobs: readonly FlowEventJob[]) => Promise<ReadonlyMap<string, string>>;
  /** Reference codes: `take` is synchronous (the engine's), `prepare` keeps a few in memory. */
  readonly referenceCodes: { prepare(): Promise<void>; take(): string };
  readonly logger: Logger;
  readonly now: () => Date;
  /** The rate limits a hop from this phone and sender counts against (none: not limited). */
  readonly counters?: (phoneHash: string, source: string) => RateCounter[];
  readonly refused?: (reason: RefusalReason) => void;
  /** Set by the console's phone only: its sessions are tests (see TestCalls). */
  readonly test?: TestCalls;
}

/**
 * The console's phone: the same hops, but a test session creates nothing real and counts in no figure.
 * Its events go to `dropped` instead of the outbox (no callback request, report, subscription, result or
 * profile); the caller's profile is the one the console chose, the test number's is neither read nor kept.
 */
export interface TestCalls {
  readonly profile: LanguageProfile | null;
  readonly dropped: (events: readonly FlowEvent[]) => void;
}

/**
 * One hop as a channel adapter reads it. Channels differ in how a session is named and in what a hop
 * carries: AT resends everything typed so far (`text` "1*2*3"), an SMPP gateway only what was typed on
 * the screen. `path` is the channel-neutral form: every input of the session, "*"-joined, as AT's text is.
 */
export interface UssdHop {
  /** The session, named by the channel (unique across channels: it keys the session in Redis). */
  readonly sessionId: string;
  readonly phoneNumber: string;
  /** The hop that opens a session (AT: empty text; SMPP: ussd_service_op 1, the dial). */
  readonly opens: boolean;
  /** What this hop adds to the stored session (undefined: it does not follow it; the hop then replays `path`). */
  inputAfter(session: StoredSession): string | undefined;
  /** The session's whole path with this hop, given the stored session if any (undefined: not known). */
  pathAfter(session: StoredSession | undefined): string | undefined;
  /** The gateway sent this hop again: the same screen, and the flow does not advance twice. */
  resent(session: StoredSession): boolean;
}

/** What a hop answers: the screen, and the session's path after it (undefined: nothing was run). */
export interface HopAnswer {
  readonly reply: Reply;
  readonly path?: string;
}

/** Sessions keep the reply as AT's wire text (`CON ...` / `END ...`): one stored form for every channel. */
const format = (reply: Reply): string => `${reply.end ? 'END' : 'CON'} ${reply.text}`;
const parseStored = (stored: string): Reply => ({ end: stored.startsWith('END'), text: stored.slice(4) });

/** Runs a store read, or learns that Redis is not there (undefined: the hop then replays its path). */
async function unlessStoreDown<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SessionStoreUnavailable) return undefined;
    throw err;
  }
}

/** The language known for this phone when this session began (a replay must start where the session did). */
function languageAtStart(profile: LanguageProfile | null, sessionId: string): string | undefined {
  if (!profile) return undefined;
  return profile.setInSession === sessionId ? (profile.languageBefore ?? undefined) : profile.language;
}

/**
 * One USSD hop, whichever channel brought it: find where the caller is, take their new input, run the
 * flow, hand its events on, remember the session, answer a menu or a last screen.
 */
export async function handleHop(deps: HandleUssdDeps, request: UssdHop, source = ''): Promise<HopAnswer> {
  const { sessionId } = request;
  const { texts } = deps.conversation;
  const callerHash = deps.protection.hash(request.phoneNumber);
  // Counted in the same round trip as the read; while Redis is down nothing is counted (the menus must still answer).
  const counters = deps.counters?.(callerHash, source) ?? [];
  // The engine sees a keyed hash of AT's session id, not the id itself.
  const flowSessionId = deps.protection.hash(`ussd-session:${sessionId}`);
  // A later hop reads its session alone; a first hop also the resume offer and the language.
  let snapshot: HopSnapshot | undefined;
  let storeUp: boolean;
  let session: StoredSession | undefined;
  let waitMs: number;
  if (request.opens) {
    snapshot = await unlessStoreDown(() => deps.sessions.read(sessionId, callerHash, counters));
    storeUp = snapshot !== undefined;
    session = snapshot?.session;
    waitMs = snapshot?.waitMs ?? 0;
  } else {
    const found = await unlessStoreDown(() => deps.sessions.readSession(sessionId, counters));
    storeUp = found !== undefined;
    session = found?.session;
    waitMs = found?.waitMs ?? 0;
  }

  // One session, one phone: a hop from another number (a forged request, or a gateway fault) is
  // refused before it can see or move the session, in the default language (not the session's).
  if (session && session.phoneHash !== callerHash) {
    deps.refused?.('phone-mismatch');
    deps.logger.warn('ussd hop refused: its phone number is not the session\'s');
    return { reply: { end: true, text: texts.t(texts.defaultLanguage, 'common.try_later') } };
  }
  // A test session is stepped by the console's phone only, and the console's phone steps no other session.
  if (session && (session.test === true) !== (deps.test !== undefined)) {
    deps.logger.warn('ussd hop refused: a test session and a gateway\'s session do not mix');
    return { reply: { end: true, text: texts.t(texts.defaultLanguage, 'common.try_later') } };
  }
  // Too many hops from this phone or sender: a polite END in the caller's language, and no work.
  if (waitMs > 0) {
    deps.refused?.('rate-limited');
    const known = session ? session.conversation.flow.vars : { language: snapshot?.profile?.language ?? '' };
    return { reply: { end: true, text: texts.t(languageOf(deps.conversation, known), 'common.rate_limited') } };
  }

  // The gateway resent the same request: same screen, and the flow does not advance twice.
  if (session && request.resent(session)) return { reply: parseStored(session.last.reply), path: session.consumed };
  const input = session ? request.inputAfter(session) : undefined;
  const path = request.pathAfter(session);
  // A later hop of a session neither stored nor replayable (an SMPP session expired, or another number's).
  if (path === undefined) {
    deps.logger.warn('ussd hop refused: it follows no session known here');
    return { reply: { end: true, text: texts.t(texts.defaultLanguage, 'common.try_later') } };
  }
  const phoneHash = callerHash;

  // Only a session's first hop (or a replay) needs to know the caller's language.
  let profile: LanguageProfile | null | undefined = deps.test ? deps.test.profile : snapshot ? snapshot.profile : session?.profile;
  const callerVars = async (): Promise<Record<string, string>> => {
    if (profile === undefined && storeUp && !snapshot) profile = await deps.sessions.readProfile(phoneHash).catch(() => undefined);
    if (profile === undefined) {
      profile = await deps.profiles.find(phoneHash);
      if (profile !== undefined && storeUp) await deps.sessions.cacheProfile(phoneHash, profile).catch(() => undefined);
    }
    const known = languageAtStart(profile ?? null, sessionId);
    // The respondent profile was asked on an earlier call (answered or skipped): flows do not ask it again.
    const asked: Record<string, string> = profileAskedAtStart(profile, sessionId) ? { caller_profile: 'asked' } : {};
    return known ? { language: known, caller_language: known, ...asked } : { language: deps.conversation.texts.defaultLanguage, ...asked };
  };

  const vars = session && input !== undefined ? undefined : await callerVars();
  // A step is pure given the codes it takes: `codes` records them, so it can be run again with the stored ones.
  const run = (newReference: () => string): Turn => {
    const context: StepContext = { sessionId: flowSessionId, newReference };
    if (session && input !== undefined) return answer(deps.conversation, context, session.conversation, input);
    if (!session && request.opens && path === '') return begin(deps.conversation, context, vars ?? {}, snapshot?.resumable);
    // Unknown session with input (Redis down, expired, or a path that does not extend ours), or a dial with a shortcut.
    return replay(deps.conversation, context, vars ?? {}, path);
  };
  await deps.referenceCodes.prepare();
  const taken: string[] = [];
  let turn = run(() => {
    const code = deps.referenceCodes.take();
    taken.push(code);
    return code;
  });

  const reply = format(turn.reply);
  const hop = path === '' ? 0 : path.split('*').length;
  const phoneSealed = deps.protection.encrypt(request.phoneNumber);
  const origin = { sessionId, phoneHash, phoneSealed, keyedHash: (value: string) => deps.protection.hash(value) };
  if (deps.test && turn.events.length) deps.test.dropped(turn.events);
  const jobs = turn.events.length && !deps.test ? toFlowEventJobs(turn.events, origin, hop, deps.now()) : [];
  let kept = false;
  if (storeUp) {
    // A test changes no profile: its language choice and its profile answers are the hop's events, dropped.
    const changes = deps.test ? [] : turn.events;
    const chosen = changes.findLast((event) => event.type === 'language.chosen')?.language;
    const asked = changes.some((event) => PROFILE_EVENTS.has(event.type));
    const before = typeof chosen === 'string' || asked ? await currentProfile(deps, phoneHash, profile) : undefined;
    const withLanguage = typeof chosen === 'string' ? chosenProfile(before ?? null, chosen, sessionId) : undefined;
    // Cached with the session, as a language choice is: the next call knows at once not to ask again.
    const newProfile = asked ? withProfileAsked(withLanguage ?? before, sessionId) : withLanguage;
    // While the caller is asked whether to resume, the session on offer is still the earlier one.
    const resume = turn.reply.end ? 'clear' : turn.state.resume ? 'keep' : 'point-here';
    const knownProfile = newProfile ?? (profile === undefined ? session?.profile : profile);
    kept = await deps.sessions
      .write(
        sessionId,
        {
          phoneHash, profile: knownProfile, conversation: turn.state, consumed: path, last: { text: path, reply },
          ...(deps.test ? { test: true as const } : {}),
        },
        resume,
        newProfile,
        jobs,
      )
      .then(() => true)
      // The reply stands: the next hop replays its path if this state was not kept.
      .catch((err: unknown) => {
        deps.logger.warn({ err }, 'ussd session not saved');
        return false;
      });
  }
  // The events are kept (with the session, or written directly) before the caller sees a reference code.
  if (!kept && jobs.length) {
    const stored = await deps.applyDirectly(jobs);
    if (stored.size > 0) {
      // Written directly, so the caller can be told the code it is stored under: the same step again, with those codes.
      let next = 0;
      turn = run(() => {
        const told = taken[next++] ?? deps.referenceCodes.take();
        return stored.get(told) ?? told;
      });
    }
  }
  return { reply: turn.reply, path };
}

/** The profile before this hop's choice: the hop that chooses a language is not a session's first. */
async function currentProfile(
  deps: HandleUssdDeps,
  phoneHash: string,
  known: LanguageProfile | null | undefined,
): Promise<LanguageProfile | null> {
  if (known !== undefined) return known;
  const cached = await deps.sessions.readProfile(phoneHash).catch(() => undefined);
  return cached !== undefined ? cached : ((await deps.profiles.find(phoneHash)) ?? null);
}

/** The cached profile after a language choice, keeping what the language was before this session. */
function chosenProfile(previous: LanguageProfile | null, language: string, sessionId: string): LanguageProfile {
  const before = previous?.setInSession === sessionId ? (previous.languageBefore ?? null) : (previous?.language ?? null);
  return { language, setInSession: sessionId, languageBefore: before, ...profileAskedFields(previous) };
}

/** Events after which the respondent profile counts as asked for this phone. */
const PROFILE_EVENTS = new Set(['profile.answered', 'profile.skipped']);
