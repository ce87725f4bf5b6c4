/**
 * Masking for anything that may identify a resident. Pure helpers, used by the logger
 * and by anything that shows a number to staff before it is revealed.
 */

// 8 to 15 digits, optionally with a leading + and single spaces, dots or dashes between digits,
// not glued to letters or digits (so ids and hex hashes are left alone).
const PHONE_PATTERN = /(?<![\w+])\+?\d(?:[ .-]?\d){7,14}(?![\w])/g;

/** "+22370123456" -> "+223******56": enough to tell two callers apart in a log, not to call them. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '*'.repeat(digits.length);
  const head = phone.trim().startsWith('+') ? `+${digits.slice(0, 3)}` : digits.slice(0, 3);
  return `${head}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}`;
}

/** Masks every phone-number-like run inside free text. */
export function maskPhonesIn(text: string): string {
  return text.replace(PHONE_PATTERN, (match) => maskPhone(match));
}

/** What a log may say about text a resident typed or a message we sent: its size, never its words. */
export function describeText(text: string): string {
  return `[redacted text, ${[...text].length} chars]`;
}

// scheme://anything-up-to-the-last-@-of-the-token: a password may itself hold "@", "/" or ":", so
// everything before the last "@" goes (masking too much is harmless, too little is not).
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi;

/** "mongodb://user:pw@host/db" -> "mongodb://***@host/db", wherever URLs appear in the text. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}
