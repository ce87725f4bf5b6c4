/**
 * The text of a CSV file as uploaded. Excel on a French Windows saves "CSV" in Windows-1252, not
 * UTF-8: a file that is not valid UTF-8 is read as Windows-1252, so "Ségou" stays "Ségou" and not
 * "S\uFFFDgou", which no campaign's region filter would ever match.
 */
export function csvText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}
