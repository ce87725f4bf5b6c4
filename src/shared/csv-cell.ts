/**
 * One CSV cell, always quoted. A leading = + - @ starts a formula in a spreadsheet, and a leading tab or
 * carriage return is dropped by some before they look for one: all are defused with a leading quote.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
}
