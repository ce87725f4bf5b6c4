/**
 * GSM 03.38 (GSM-7) versus UCS-2: which one a text needs, how long it is in that encoding, and how many
 * SMS parts it takes. See shared/reference/sms-encoding.md. Pure.
 */

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[]~|€\f';

const basic = new Set([...GSM7_BASIC]);
const extension = new Set([...GSM7_EXTENSION]);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface EncodedLength {
  readonly encoding: SmsEncoding;
  /** Septets for GSM-7 (extension characters count two), UTF-16 code units for UCS-2. */
  readonly length: number;
  /** SMS parts: 160/153 per part in GSM-7, 70/67 in UCS-2. */
  readonly parts: number;
  /** Characters that forced UCS-2, in order of appearance, without repeats. */
  readonly nonGsmCharacters: readonly string[];
}

export function analyzeText(text: string): EncodedLength {
  const nonGsm = new Set<string>();
  let septets = 0;
  for (const char of text) {
    if (basic.has(char)) septets += 1;
    else if (extension.has(char)) septets += 2;
    else nonGsm.add(char);
  }
  if (nonGsm.size === 0) {
    return { encoding: 'GSM-7', length: septets, parts: septets <= 160 ? 1 : Math.ceil(septets / 153), nonGsmCharacters: [] };
  }
  const units = text.length;
  return { encoding: 'UCS-2', length: units, parts: units <= 70 ? 1 : Math.ceil(units / 67), nonGsmCharacters: [...nonGsm] };
}

/** The most a single USSD screen may hold in the encoding this text needs. */
export function screenLimit(encoding: SmsEncoding, limits: { gsm7: number; ucs2: number }): number {
  return encoding === 'GSM-7' ? limits.gsm7 : limits.ucs2;
}

/** Common ASCII spelling of Bambara letters for SMS, as chosen per language: readability traded for cost. */
const BAMBARA_ASCII: Readonly<Record<string, string>> = { ɛ: 'e', Ɛ: 'E', ɔ: 'o', Ɔ: 'O', ɲ: 'ny', Ɲ: 'Ny', ŋ: 'ng', Ŋ: 'Ng' };
/** Typographic marks with a GSM-7 equivalent. */
const TYPOGRAPHY: Readonly<Record<string, string>> = {
  '’': "'",
  '‘': "'",
  '«': '"',
  '»': '"',
  '“': '"',
  '”': '"',
  '…': '...',
  '–': '-',
  '—': '-',
  '\u00a0': ' ',
};

export function toAsciiSpelling(text: string): string {
  return [...text].map((char) => BAMBARA_ASCII[char] ?? TYPOGRAPHY[char] ?? char).join('');
}
