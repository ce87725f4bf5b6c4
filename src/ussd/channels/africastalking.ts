import { handleHop, type HandleUssdDeps, type UssdHop } from '../handle-hop';
import type { StoredSession } from '../session-store';
import type { UssdRequest } from '../ussd-request';

/**
 * Africa's Talking's USSD channel: AT names the session, resends everything typed so far in `text`
 * ("1*2*3"), and reads `CON ...` (a menu) or `END ...` (the last screen) back.
 */

/** The input this request adds: AT's text minus what the session has already consumed. */
function newInput(session: StoredSession, text: string): string | undefined {
  if (session.consumed === '' && session.last.text === '') return text;
  return text.startsWith(`${session.consumed}*`) ? text.slice(session.consumed.length + 1) : undefined;
}

export function atHop(request: UssdRequest): UssdHop {
  const { text } = request;
  return {
    sessionId: request.sessionId,
    phoneNumber: request.phoneNumber,
    opens: text === '',
    inputAfter: (session) => newInput(session, text),
    // AT's text is the path itself: a session lost from Redis is replayed from it.
    pathAfter: () => text,
    resent: (session) => session.last.text === text,
  };
}

/** One hop as AT sends it, answered CON or END. */
export async function handleUssdRequest(deps: HandleUssdDeps, request: UssdRequest, source = ''): Promise<string> {
  const { reply } = await handleHop(deps, atHop(request), source);
  return `${reply.end ? 'END' : 'CON'} ${reply.text}`;
}
