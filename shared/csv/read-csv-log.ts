// Reads a device CSV log (attendances.csv, readings.csv, messages.csv) row by row, matching
// columns by header name (docs/protocol/v4.md §4). Only a header without the required columns fails the
// whole file; a bad row is yielded as `malformed` so the caller rejects it with `malformed_row`
// and goes on. Memory stays flat whatever the file's length: rows are produced as read.

import type { Readable } from 'node:stream';
import { FileError } from '../protocol/file-error.js';
import { readCsvRecords } from './csv-records.js';

export interface CsvLogSpec {
  required: readonly string[];
  optional: readonly string[];
  /** Whether quoted fields may span lines (messages.csv bodies); default false. */
  multiline?: boolean;
  /** Default 4096 characters per row. */
  maxRecordSize?: number;
}

export type CsvLogRow =
  | {
      line: number;
      /** Required and optional columns by name (prototype-less); an optional column the file lacks reads as ''. */
      fields: Record<string, string>;
      malformed?: undefined;
    }
  | { line: number; malformed: true; reason: string };

const MAX_COLUMNS = 64;

export interface CsvLogLimits {
  /**
   * Data rows the file may hold (BATCH_MAX_ROWS): reading the next one throws
   * FileError('csv_invalid'), so a caller stops there, and imports none of the file.
   */
  maxRows?: number;
}

/** The `csv_invalid` detail of a log with more rows than a batch may carry. */
export function tooManyRowsDetail(maxRows: number): string {
  return `the file holds more than ${maxRows} rows, the most one batch may carry: send its rows in smaller batches`;
}

/**
 * Yields each data row with its physical line (the header is line 1 when the file starts with it).
 * Throws FileError('csv_invalid') before the first row when the header is missing, malformed,
 * repeats a known column or lacks a required one, and at the row past `limits.maxRows`.
 */
export async function* readCsvLog(input: Buffer | Readable, spec: CsvLogSpec, limits: CsvLogLimits = {}): AsyncGenerator<CsvLogRow> {
  const maxRows = limits.maxRows ?? Infinity;
  let rows = 0;
  const records = readCsvRecords(input, { multiline: spec.multiline, maxRecordSize: spec.maxRecordSize });
  const first = await records.next();
  if (first.done) throw new FileError('csv_invalid', 'the file has no header row');
  const header = first.value;
  if (header.malformed) throw new FileError('csv_invalid', `the header row is malformed: ${header.reason}`);
  if (header.fields.length > MAX_COLUMNS) throw new FileError('csv_invalid', `the header has more than ${MAX_COLUMNS} columns`);

  // Header names are trimmed (a space after a comma is a common export habit) but case-sensitive.
  const names = header.fields.map((name) => name.trim());
  const known = [...spec.required, ...spec.optional];
  const index = new Map<string, number>();
  for (const name of known) {
    const at = names.indexOf(name);
    if (at === -1) continue;
    if (names.indexOf(name, at + 1) !== -1) throw new FileError('csv_invalid', `the column ${name} appears twice`);
    index.set(name, at);
  }
  const missing = spec.required.filter((name) => !index.has(name));
  if (missing.length > 0) throw new FileError('csv_invalid', `missing columns: ${missing.join(', ')}`);

  for await (const record of records) {
    if (++rows > maxRows) throw new FileError('csv_invalid', tooManyRowsDetail(maxRows));
    if (record.malformed) {
      yield record;
      continue;
    }
    if (record.fields.length !== names.length) {
      yield { line: record.line, malformed: true, reason: `expected ${names.length} fields, got ${record.fields.length}` };
      continue;
    }
    const fields: Record<string, string> = Object.create(null);
    for (const name of known) {
      const at = index.get(name);
      fields[name] = at === undefined ? '' : record.fields[at];
    }
    yield { line: record.line, fields };
  }
}
