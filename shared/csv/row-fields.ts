// Field parsers shared by the device log rows (docs/protocol/v4.md §4, §7). Each returns null for a value
// that breaks its rule; the row validators decide which rejection code that is.

import { EARLIEST_ROW_TIME, MAX_FUTURE_SKEW_MS, TEMPERATURE_MAX, TEMPERATURE_MIN, type RowRejectionCode } from '../protocol/codes.js';
import { parseIsoTimestamp } from '../protocol/iso-timestamp.js';

/**
 * A validated row, or the code it is rejected with (and its record id once that was readable),
 * with a `detail` a developer can act on: the column and the value as sent (`type: "chekin" is
 * not checkin or checkout`), written by `refusal` (docs/protocol/v4.md §4.5).
 */
export type RowResult<T> = { ok: true; row: T } | { ok: false; code: RowRejectionCode; recordId?: number; detail: string };

/** Code points of a value quoted in a rejection's detail at most; longer ones are cut with "…". */
export const EXCERPT_LENGTH = 40;
const EXCERPT_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A value as sent, made safe to show in a rejection's detail (it reaches the package's XML, the
 * REST API and the dashboard): control characters become U+FFFD, at most EXCERPT_LENGTH code
 * points, quoted as a JSON string so an empty value or spaces read as such.
 */
export function excerpt(raw: string): string {
  const points = [...raw.replace(EXCERPT_CONTROL, '\ufffd')];
  const cut = points.length > EXCERPT_LENGTH ? `${points.slice(0, EXCERPT_LENGTH).join('')}…` : points.join('');
  return JSON.stringify(cut);
}

/** A refusal of `column`'s value: `type: "chekin" is not checkin or checkout`. */
export function refusal(code: RowRejectionCode, column: string, raw: string, rule: string, recordId?: number): { ok: false; code: RowRejectionCode; recordId?: number; detail: string } {
  const detail = `${column}: ${excerpt(raw)} ${rule}`;
  return recordId === undefined ? { ok: false, code, detail } : { ok: false, code, recordId, detail };
}

export interface RowContext {
  /** When the server received the batch: the reference for `in_future`. */
  receivedAt: Date;
}

/** Spaces and tabs around a scalar field are a formatting accident, not part of the value. */
export function scalar(value: string | undefined): string {
  return (value ?? '').replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * `record_id`: a positive decimal integer up to 2^53−1, so it stays exact in JS numbers and in
 * the manifest's JSON high-water marks. Leading zeros are tolerated.
 */
export function parseRecordId(raw: string): number | null {
  if (!/^[0-9]{1,16}$/.test(raw)) return null;
  const value = Number(raw);
  return value >= 1 && value <= Number.MAX_SAFE_INTEGER ? value : null;
}

/** Largest id a user row can have (PostgreSQL `integer`): a larger id cannot name a user. */
export const MAX_USER_ID = 2_147_483_647;

/** `user_id` syntax: a positive integer within MAX_USER_ID. Whether the user exists is the database's call. */
export function parseUserId(raw: string): number | null {
  if (!/^[0-9]{1,10}$/.test(raw)) return null;
  const value = Number(raw);
  return value >= 1 && value <= MAX_USER_ID ? value : null;
}

export type TimeCheck = { ok: true; at: Date } | { ok: false; code: 'invalid_timestamp' | 'in_future'; rule: string };

/**
 * An ISO 8601 time with offset or Z, not before EARLIEST_ROW_TIME (`invalid_timestamp`) and no
 * later than 5 minutes after the batch was received (`in_future`).
 */
export function checkTime(raw: string, ctx: RowContext): TimeCheck {
  const at = parseIsoTimestamp(raw);
  if (!at) return { ok: false, code: 'invalid_timestamp', rule: 'is not an ISO 8601 time with offset (or Z) on a real date' };
  if (at.getTime() < EARLIEST_ROW_TIME.getTime()) return { ok: false, code: 'invalid_timestamp', rule: `is before ${EARLIEST_ROW_TIME.toISOString().replace('.000Z', 'Z')}` };
  if (at.getTime() > ctx.receivedAt.getTime() + MAX_FUTURE_SKEW_MS) {
    return { ok: false, code: 'in_future', rule: `is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes after the server received the batch (${ctx.receivedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')})` };
  }
  return { ok: true, at };
}

/** A plain decimal in °C (`36`, `36.6`, `36.65`) within TEMPERATURE_MIN..TEMPERATURE_MAX inclusive. */
export function parseTemperature(raw: string): number | null {
  if (!/^[0-9]{1,3}(\.[0-9]{1,3})?$/.test(raw)) return null;
  const value = Number(raw);
  return value >= TEMPERATURE_MIN && value <= TEMPERATURE_MAX ? value : null;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Short free text (a sensor name): 1–`max` characters, no control characters. */
export function isShortText(value: string, max: number): boolean {
  return value.length > 0 && [...value].length <= max && !CONTROL.test(value);
}
