// Every CSV we produce (roster.csv in packages, office exports) may be opened in a spreadsheet,
// so a text cell that starts like a formula is neutralised with a leading apostrophe
// (OWASP "CSV Injection", CWE-1236, SAFE-INPUT.md §1.4). Numbers are written as numbers: a
// negative number is not a formula.

import { stringify } from 'csv-stringify/sync';
import { escapeFormulaCell } from './formula-escape.js';

export { escapeFormulaCell };

export type CsvCell = string | number | bigint | boolean | null | undefined;

function cellText(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return escapeFormulaCell(cell);
  if (typeof cell === 'number' && !Number.isFinite(cell)) throw new RangeError(`cannot write ${cell} to CSV`);
  return String(cell);
}

export interface ToCsvOptions {
  /** Default CRLF, as RFC 4180 writes it (devices read LF and CRLF alike). */
  recordDelimiter?: 'windows' | 'unix';
}

/**
 * A CSV document: the header row, then `rows` (each exactly as long as the header). Text cells
 * are formula-escaped, fields holding `,` `"` or line breaks are quoted; booleans are `true`/`false`.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[], opts: ToCsvOptions = {}): string {
  const records = [header.map(cellText)];
  for (const row of rows) {
    if (row.length !== header.length) throw new Error(`CSV row has ${row.length} cells, the header ${header.length}`);
    records.push(row.map(cellText));
  }
  return stringify(records, { record_delimiter: opts.recordDelimiter ?? 'windows', quote_record_delimiter: true, eof: true });
}
