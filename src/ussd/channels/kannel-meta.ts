/**
 * Kannel's SMPP meta-data for USSD (see shared/reference/kannel-smpp.md), both ways. Pure.
 *
 * In: the get-url's `meta=%D` is `?smpp?ussd_service_op=%01&its_session_info=%0A%02&`, each value URL-encoded
 * byte by byte (byte 0x20 as "+", a real "+" as %2B, letters and digits as they are): read as bytes, never as text.
 * Out: `X-Kannel-Meta-Data: ?smpp?ussd_service_op=2&its_session_info=%0A%02`, where the op is decimal text
 * (echoing the raw byte `%02` makes Kannel send op 0) and the session the same bytes, each as %XX.
 */

/** ussd_service_op values (SMPP 3.4 5.3.2.44) this channel reads or writes. */
export const USSD_OP = {
  /** The phone dialled the code: a session opens. */
  pssrIndication: 1,
  /** A menu that expects an answer. */
  ussrRequest: 2,
  /** The last screen: the session closes. */
  pssrResponse: 17,
  /** The phone's answer to a menu. */
  ussrConfirm: 18,
} as const;

/** The raw bytes of one URL-encoded value: "+" is 0x20, %XX a byte, anything else its UTF-8 bytes. */
export function bytesOfEncoded(raw: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i += 1) {
    const char = raw[i] ?? '';
    const hex = raw.slice(i + 1, i + 3);
    if (char === '%' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (char === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** The values of one meta-data group (`?smpp?a=..&b=..&`), as bytes; undefined when the group is absent. */
export function metaGroup(meta: string, group: string): Map<string, Buffer> | undefined {
  const start = meta.indexOf(`?${group}?`);
  if (start < 0) return undefined;
  const body = meta.slice(start + group.length + 2);
  const end = body.indexOf('?');
  const values = new Map<string, Buffer>();
  for (const pair of (end < 0 ? body : body.slice(0, end)).split('&')) {
    const at = pair.indexOf('=');
    if (at > 0) values.set(pair.slice(0, at), bytesOfEncoded(pair.slice(at + 1)));
  }
  return values;
}

export interface UssdMeta {
  readonly op: number;
  /** its_session_info as it came: echoed unchanged in every reply. */
  readonly session: Buffer;
}

/** The USSD TLVs of an incoming hop, or why they are not usable. */
export function readUssdMeta(meta: string): { ok: true; meta: UssdMeta } | { ok: false; reason: string } {
  const smpp = metaGroup(meta, 'smpp');
  const op = smpp?.get('ussd_service_op');
  const session = smpp?.get('its_session_info');
  if (!op || op.length !== 1) return { ok: false, reason: 'no ussd_service_op' };
  // SMPP 3.4 gives its_session_info two octets; some gateways use more: up to 8 are kept and echoed.
  if (!session || session.length < 1 || session.length > 8) return { ok: false, reason: 'no its_session_info' };
  return { ok: true, meta: { op: op[0] ?? 0, session } };
}

/** Every byte as %XX: Kannel URL-decodes the value back to the same bytes. */
const percentEncoded = (bytes: Buffer): string => [...bytes].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** The X-Kannel-Meta-Data of a reply: the op in decimal, the session's bytes echoed (none when unknown). */
export function replyMeta(op: number, session?: Buffer): string {
  return `?smpp?ussd_service_op=${op}${session ? `&its_session_info=${percentEncoded(session)}` : ''}`;
}
