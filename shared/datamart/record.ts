// An exported record: values checked against the entity's description and formatted once at
// collect time, so the export stage only lays the stored fields out as CSV.
import { toCsv, type CsvCell } from '../csv/safe-csv-cell.js';
import { martId, type EntitySpec, type FieldSpec } from './entities.js';

export type RecordValue = string | number | boolean | null;
export type ExportRecord = Record<string, RecordValue>;
export type SourceValue = string | number | boolean | Date | readonly (string | number)[] | null | undefined;

/** Every control character (C0, DEL, C1), line breaks and tabs included: the mart wants plain one-line text. */
const CONTROL = /\p{Cc}/gu;

export function stripControlCharacters(value: string): string {
  return value.replace(CONTROL, '');
}

export class RecordError extends Error {
  constructor(readonly entity: string, readonly field: string, message: string) {
    super(`${entity}.${field}: ${message}`);
    this.name = 'RecordError';
  }
}

function formatValue(spec: EntitySpec, field: FieldSpec, value: SourceValue, prefix: string): RecordValue {
  if (value === null || value === undefined || (typeof value === 'string' && stripControlCharacters(value) === '')) {
    if (field.required) throw new RecordError(spec.name, field.name, 'required');
    return null;
  }
  const fail = (what: string): never => { throw new RecordError(spec.name, field.name, `expected ${what}, got ${JSON.stringify(value)}`); };
  switch (field.type) {
    case 'id':
      if (typeof value !== 'string' && typeof value !== 'number') return fail('an id');
      return martId(prefix, stripControlCharacters(String(value)));
    case 'string':
      return typeof value === 'string' ? stripControlCharacters(value) : fail('text');
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : fail('an integer');
    case 'boolean':
      return typeof value === 'boolean' ? value : fail('true or false');
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : fail('a date');
    case 'timestamp':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : fail('an instant');
    case 'list':
      // Items joined with ";" (none contain it: weekdays and anomaly names).
      return Array.isArray(value) ? value.map((v) => stripControlCharacters(String(v))).join(';') : fail('a list');
  }
}

/** The record as exported: every field of the description, checked, with ids prefixed. */
export function buildRecord(spec: EntitySpec, values: Record<string, SourceValue>, prefix: string): ExportRecord {
  const out: ExportRecord = {};
  for (const field of spec.fields) out[field.name] = formatValue(spec, field, values[field.name], prefix);
  return out;
}

/** What a delete carries: the primary key only. */
export function deletionRecord(spec: EntitySpec, localId: string, prefix: string): ExportRecord {
  return { [spec.primaryKey]: martId(prefix, stripControlCharacters(localId)) };
}

/**
 * One CSV file of records: upserts carry every field in the declared order, deletes the
 * primary key alone. Written by toCsv (RFC 4180, CRLF, formula-looking text neutralised, as
 * every CSV we produce); control characters are stripped again in case a stored record predates a rule.
 */
export function recordsCsv(spec: EntitySpec, operation: 'upsert' | 'delete', records: readonly ExportRecord[]): string {
  const header = operation === 'upsert' ? spec.fields.map((f) => f.name) : [spec.primaryKey];
  const rows = records.map((r) => header.map((name): CsvCell => {
    const v = r[name];
    return typeof v === 'string' ? stripControlCharacters(v) : v;
  }));
  return toCsv(header, rows);
}
