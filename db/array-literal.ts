// Large arrays sent to PostgreSQL as one array literal built here. node-postgres turns a JS
// array parameter into a literal element by element (prepareValue, escapeElement): for the
// ten arrays of a 25,000-day recompute that was about a second of worker CPU per
// 1,000,000-row import (bench `ingest`, issue #21). Only for values that never need quoting
// in a literal: numbers, booleans, ISO instants and dates, fixed identifiers.
type Plain = string | number | boolean | null;

/** `{1,2,NULL}`; elements go in as they are (see above). */
export function arrayLiteral(values: readonly Plain[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += (i === 0 ? '' : ',') + (v === null ? 'NULL' : String(v));
  }
  return `${out}}`;
}

/** `{"a","b"}`: elements that hold braces or commas (nested literals), never quotes or backslashes. */
export function quotedArrayLiteral(values: readonly string[]): string {
  return values.length === 0 ? '{}' : `{"${values.join('","')}"}`;
}
