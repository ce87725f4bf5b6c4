/**
 * An MO SMS as Kannel's sms-service get-url brings it:
 * `from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I`, in the fields of an incoming SMS. Pure.
 *
 * - The text is read from the raw query as bytes and decoded in the charset Kannel names (%C): with smsbox's
 *   `mo-recode = true` a UCS-2 message arrives as UTF-8 (verified with Kannel 1.4.5), without it as UTF-16BE.
 * - Kannel writes an international number with "+" (TON 1) and others as the SMSC gave them: digits long enough
 *   to hold a country code get their "+" here, so that "22370123456" is not read as a Malian national number.
 * - %I is Kannel's id of the message (a UUID), the same when Kannel calls again: it makes a repeat change nothing.
 */
export interface KannelInbound {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly id: string;
  readonly smsc: string;
}

const DECODERS: Readonly<Record<string, string>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16be': 'utf-16be',
  'ucs-2': 'utf-16be',
  'iso-8859-1': 'latin1',
  'windows-1252': 'windows-1252',
};

/** The raw bytes of one query value: "+" is a space, %XX a byte. */
function bytesOf(raw: string): Buffer {
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

function decodeText(bytes: Buffer, charset: string): string | undefined {
  const label = DECODERS[charset.toLowerCase()] ?? (charset === '' ? 'utf-8' : undefined);
  if (!label) return undefined;
  if (label === 'utf-16be') {
    const swapped = Buffer.from(bytes);
    if (swapped.length % 2) return undefined;
    return swapped.swap16().toString('utf16le');
  }
  return new TextDecoder(label).decode(bytes);
}

/** Digits only and long enough for a country code: written without its "+". */
export const withPlus = (number: string): string => (/^\d{9,15}$/.test(number) ? `+${number}` : number);

export function readKannelInbound(rawQuery: string): { ok: true; sms: KannelInbound } | { ok: false; reason: string } {
  const raw = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    const at = pair.indexOf('=');
    if (at > 0 && !raw.has(pair.slice(0, at))) raw.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const value = (name: string): string => {
    try {
      return decodeURIComponent((raw.get(name) ?? '').replace(/\+/g, ' '));
    } catch {
      return '';
    }
  };
  const text = decodeText(bytesOf(raw.get('text') ?? ''), value('charset'));
  if (text === undefined) return { ok: false, reason: 'text: not readable in the charset given' };
  return { ok: true, sms: { from: withPlus(value('from').trim()), to: value('to'), text, id: value('id'), smsc: value('smsc') } };
}
