import type { Logger } from '../platform/logger';
import type { PhoneProtection } from '../shared/phone-protection';
import type { CallerProfiles } from './caller-profiles';
import { answer, begin, replay, type ConversationDeps, type ConversationState, type Turn } from './conversation';
import { SessionStoreUnavailable, type SessionStore, type StoredSession } from './session-store';
import type { UssdRequest } from './ussd-request';

export interface HandleUssdDeps {
  readonly conversation: ConversationDeps;
  readonly sessions: SessionStore;
  readonly profiles: CallerProfiles;
  readonly protection: PhoneProtection;
  readonly dispatchEvents: (events: Turn['events'], who: { sessionId: string; phoneHash: string; phoneSealed: string }, at: Date) => Promise<void>;
  readonly logger: Logger;
  readonly now: () => Date;
}

const format = (turn: Turn): string => `${turn.reply.end ? 'END' : 'CON'} ${turn.reply.text}`;

/** Reads the session, or learns that Redis is not there (then the hop replays AT's text). */
async function loadSession(deps: HandleUssdDeps, sessionId: string): Promise<{ session?: StoredSession; storeUp: boolean }> {
  try {
    return { session: await deps.sessions.get(sessionId), storeUp: true };
  } catch (err) {
    if (err instanceof SessionStoreUnavailable) return { storeUp: false };
    throw err;
  }
}

/** The input this request adds: AT's text minus what the session has already consumed. */
function newInput(session: StoredSession, text: string): string | undefined {
  if (session.consumed === '' && session.last.text === '') return text;
  return text.startsWith(`${session.consumed}*`) ? text.slice(session.consumed.length + 1) : undefined;
}

/**
 * One USSD hop, as AT sends it: find where the caller is, take their new input, run the flow,
 * hand its events on, remember the session, answer CON or END.
 */
export async function handleUssdRequest(deps: HandleUssdDeps, request: UssdRequest): Promise<string> {
  const { sessionId, text } = request;
  const phoneHash = deps.protection.hash(request.phoneNumber);
  const { session, storeUp } = await loadSession(deps, sessionId);

  // AT resent the same request: same screen, and the flow does not advance twice.
  if (session && session.last.text === text) return session.last.reply;

  const callerVars = async (): Promise<Record<string, string>> => {
    const known = await deps.profiles.languageAtStartOf(phoneHash, sessionId);
    return known ? { language: known, caller_language: known } : { language: deps.conversation.texts.defaultLanguage };
  };

  let turn: Turn;
  const input = session ? newInput(session, text) : undefined;
  if (session && input !== undefined) {
    turn = answer(deps.conversation, sessionId, session.conversation, input);
  } else if (!session && text === '') {
    const resumable = storeUp ? await deps.sessions.getResumable(phoneHash).catch(() => undefined) : undefined;
    turn = begin(deps.conversation, sessionId, await callerVars(), resumable);
  } else {
    // Unknown session with input (Redis down, expired, or a text that does not extend ours).
    turn = replay(deps.conversation, sessionId, await callerVars(), text);
  }

  const reply = format(turn);
  if (turn.events.length) {
    await deps.dispatchEvents(turn.events, { sessionId, phoneHash, phoneSealed: deps.protection.encrypt(request.phoneNumber) }, deps.now());
  }
  if (storeUp) await remember(deps, sessionId, phoneHash, { conversation: turn.state, consumed: text, last: { text, reply } }, turn.reply.end);
  return reply;
}

async function remember(deps: HandleUssdDeps, sessionId: string, phoneHash: string, session: StoredSession, ended: boolean): Promise<void> {
  // While the caller is asked whether to resume, the session worth resuming is still the old one.
  const resumable: ConversationState | undefined = ended ? undefined : (session.conversation.resume ?? session.conversation);
  try {
    await Promise.all([deps.sessions.save(sessionId, session), deps.sessions.setResumable(phoneHash, resumable)]);
  } catch (err) {
    // The reply stands: the next hop replays AT's text if this state was not kept.
    deps.logger.warn({ err }, 'ussd session not saved');
  }
}
