// The one formula-escaping rule for every CSV this project writes: the server's writer
// (shared/csv/safe-csv-cell.ts) and the dashboard's downloads (web/src/csv.ts, bundled into
// the browser, so this file imports nothing). A spreadsheet reads a cell starting with one of
// these as a formula (OWASP "CSV Injection", CWE-1236, SAFE-INPUT.md §1.4); a leading
// apostrophe makes it text.

/** `=`, `+`, `-`, `@`, tab, CR, and the full-width ＝ ＋ － ＠ that some spreadsheets also honour. */
export const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/** `value` with a `'` in front when a spreadsheet would read it as a formula. */
export function escapeFormulaCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}
