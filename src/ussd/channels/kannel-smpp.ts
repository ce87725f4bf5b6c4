import { readKannelInbound } from '../../gateway/kannel-inbound';
import { analyzeText } from '../../shared/sms-encoding';
import type { Reply } from '../conversation';
import { handleHop, type HandleUssdDeps, type UssdHop } from '../handle-hop';
import type { StoredSession } from '../session-store';
import { readUssdMeta, replyMeta, USSD_OP } from './kannel-meta';

/**
 * The SMPP USSD channel, through Kannel's sms-service get-url: a hop carries only what was typed on that
 * screen (ussd_service_op 18), a dial opens the session (op 1), and the operator's its_session_info is
 * echoed in every reply with op 2 (a menu) or 17 (the last screen). Sessions are keyed by the smsc-id
 * (the operator), its_session_info and the number: the two session bytes wrap and are reused across phones.
 */
export interface KannelUssdRequest {
  /** Kannel's smsc-id of the bind the hop came over. */
  readonly smsc: string;
  readonly phoneNumber: string;
  readonly text: string;
  readonly op: number;
  readonly session: Buffer;
}

/** What Kannel is to send back: the body and the headers it turns into the reply's TLVs and coding. */
export interface KannelReply {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type ReadResult = { ok: true; request: KannelUssdRequest } | { ok: false; reason: string; session?: Buffer };

/** Reads the get-url's query (`from=%p&text=%a&smsc=%i&meta=%D&charset=%C`): untrusted, checked field by field. */
export function readKannelUssd(rawQuery: string): ReadResult {
  const query = new URLSearchParams(rawQuery);
  const meta = readUssdMeta(query.get('meta') ?? '');
  if (!meta.ok) return { ok: false, reason: meta.reason };
  const { op, session } = meta.meta;
  const inbound = readKannelInbound(rawQuery);
  if (!inbound.ok) return { ok: false, reason: inbound.reason, session };
  const { from, smsc, text } = inbound.sms;
  if (!/^\+?[0-9]{6,15}$/.test(from)) return { ok: false, reason: 'from: not a phone number', session };
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(smsc)) return { ok: false, reason: 'smsc: missing or malformed', session };
  if (text.length > 500) return { ok: false, reason: 'text: too long', session };
  if (op !== USSD_OP.pssrIndication && op !== USSD_OP.ussrConfirm) {
    return { ok: false, reason: `ussd_service_op ${op}: not a dial nor an answer`, session };
  }
  return { ok: true, request: { smsc, phoneNumber: from, text, op, session } };
}

/** Kannel's answer for a screen: op 2 or 17, the session echoed, UCS-2 when the text needs it. */
export function kannelReply(reply: Reply, session?: Buffer): KannelReply {
  const headers: Record<string, string> = {
    'x-kannel-meta-data': replyMeta(reply.end ? USSD_OP.pssrResponse : USSD_OP.ussrRequest, session),
  };
  // The body stays UTF-8 (its content-type says so); coding 2 makes Kannel send it as UCS-2 (Bambara's ɛ ɔ ɲ).
  if (analyzeText(reply.text).encoding === 'UCS-2') headers['x-kannel-coding'] = '2';
  return { body: reply.text, headers };
}

/** The session's path, kept in this process too: while Redis is away a later hop is replayed from it. */
export interface Trails {
  get(sessionId: string): string | undefined;
  set(sessionId: string, path: string): void;
  delete(sessionId: string): void;
}

/** Bounded in entries and in time (a session's TTL): oldest first out. */
export function createTrails(options: { maxEntries: number; ttlMs: number; now?: () => number }): Trails {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { path: string; until: number }>();
  return {
    get(sessionId) {
      const entry = entries.get(sessionId);
      if (entry && entry.until < now()) entries.delete(sessionId);
      return entry && entry.until >= now() ? entry.path : undefined;
    },
    set(sessionId, path) {
      entries.delete(sessionId);
      entries.set(sessionId, { path, until: now() + options.ttlMs });
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value ?? '');
    },
    delete(sessionId) {
      entries.delete(sessionId);
    },
  };
}

/**
 * The path before this hop: the stored session's, or this process's trail when it is further along. A hop
 * answered while Redis did not answer (a read that timed out under load) was replayed and not saved: the
 * stored session is then behind, and taking this hop's input after it would lose the one in between.
 */
function pathBefore(session: StoredSession | undefined, trail: string | undefined): string | undefined {
  if (!session) return trail;
  if (
    trail !== undefined &&
    trail.length > session.consumed.length &&
    (session.consumed === '' || trail.startsWith(`${session.consumed}*`))
  ) {
    return trail;
  }
  return session.consumed;
}

/**
 * The path a dial opens the session with. The dial carries what the phone dialled: "*321*7#", where 7 is a flow's
 * shortcut, starts that flow, as AT's first hop with the text "7" does; what follows the shortcut ("*321*7*1#")
 * is answered at once. The service code is taken to be the dial's first segment (a two-segment shared code
 * such as *384*21# would need it configured); a dial that names no shortcut opens at the entry flow.
 */
export function dialPath(dialled: string, shortcuts: ReadonlyMap<string, string>): string {
  const rest = /^\*\d+\*(\d+(?:\*\d+)*)#$/.exec(dialled.trim())?.[1] ?? '';
  return shortcuts.has(rest.split('*')[0] ?? '') ? rest : '';
}

/** The channel's view of one hop for the shared handler. */
export function kannelHop(
  request: KannelUssdRequest,
  sessionId: string,
  trail: string | undefined,
  shortcuts: ReadonlyMap<string, string> = new Map(),
): UssdHop {
  const opens = request.op === USSD_OP.pssrIndication;
  const typed = request.text;
  return {
    sessionId,
    phoneNumber: request.phoneNumber,
    opens,
    // A dial opens a new session even where these session bytes were seen before (the operator reuses them).
    // A stored session that is behind this process's trail is not stepped: the hop replays the trail instead.
    inputAfter: (session) => (opens || pathBefore(session, trail) !== session.consumed ? undefined : typed),
    pathAfter: (session) => {
      if (opens) return dialPath(typed, shortcuts);
      const before = pathBefore(session, trail);
      if (before === undefined) return undefined;
      return before === '' ? typed : `${before}*${typed}`;
    },
    // Kannel does not resend a hop it had an answer for: the same input twice is the caller's.
    resent: () => false,
  };
}

export interface KannelChannelDeps {
  readonly hop: HandleUssdDeps;
  readonly trails: Trails;
}

/** One hop from Kannel, answered as Kannel needs it. */
export async function handleKannelUssd(deps: KannelChannelDeps, request: KannelUssdRequest, source = ''): Promise<KannelReply> {
  // The number is in the key only as a keyed hash: the session bytes alone would mix up two phones.
  const sessionId =
    `kannel:${deps.hop.protection.hash(`kannel-session:${request.smsc}:${request.session.toString('hex')}:${request.phoneNumber}`)}`;
  const hop = kannelHop(request, sessionId, deps.trails.get(sessionId), deps.hop.conversation.flows.shortcuts);
  const answer = await handleHop(deps.hop, hop, source);
  if (answer.reply.end) deps.trails.delete(sessionId);
  else if (answer.path !== undefined) deps.trails.set(sessionId, answer.path);
  return kannelReply(answer.reply, request.session);
}
