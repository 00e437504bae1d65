// One `attendances.csv` row (docs/protocol/v4.md §4) checked in isolation, before any database lookup.
// Checks run column by column in this order and the first failure decides the code:
// record_id → user_id → type → occurred_at → temperature → photo.
//
// Where the protocol is silent:
//  - a user_id that is not a positive integer is `unknown_user`, like an id that names nobody:
//    `malformed_row` is kept for rows the CSV layer could not read (wrong field count, quoting,
//    encoding). Whether a well-formed id names a user of the school is decided later (also `unknown_user`).
//  - a temperature that is not a plain decimal (`abc`, `36,6`, `1e2`) is `temperature_out_of_range`,
//    the temperature column's own code, for the same reason.
//  - a photo name outside channels.ts PHOTO_NAME (a bare name, no `photos/` prefix) has no code of
//    its own in §4: it is `malformed_row`.

import { MAX_FUTURE_SKEW_MS, type RowRejectionCode } from '../protocol/codes.js';
import { PHOTO_NAME } from '../protocol/channels.js';
import { MAX_USER_ID, checkTime, parseRecordId, parseTemperature, parseUserId, refusal, scalar, type RowContext, type RowResult } from './row-fields.js';
import { RECORD_ID_RULE, TEMPERATURE_RULE } from './row-rules.js';

export const ATTENDANCE_COLUMNS = {
  required: ['record_id', 'user_id', 'type', 'occurred_at'],
  optional: ['temperature', 'photo'],
} as const;

export interface AttendanceRow {
  recordId: number;
  userId: number;
  type: 'checkin' | 'checkout';
  occurredAt: Date;
  temperature: number | null;
  photo: string | null;
}

export function validateAttendanceRow(fields: Readonly<Record<string, string>>, ctx: RowContext): RowResult<AttendanceRow> {
  const rawRecordId = scalar(fields.record_id);
  const recordId = parseRecordId(rawRecordId);
  if (recordId === null) return refusal('invalid_record_id', 'record_id', rawRecordId, RECORD_ID_RULE);

  const rawUserId = scalar(fields.user_id);
  const userId = parseUserId(rawUserId);
  if (userId === null) return refusal('unknown_user', 'user_id', rawUserId, `is not a user id (an integer from 1 to ${MAX_USER_ID})`, recordId);

  const type = scalar(fields.type);
  if (type !== 'checkin' && type !== 'checkout') return refusal('invalid_type', 'type', type, 'is not checkin or checkout', recordId);

  const rawTime = scalar(fields.occurred_at);
  const time = checkTime(rawTime, ctx);
  if (!time.ok) return refusal(time.code, 'occurred_at', rawTime, time.rule, recordId);

  const rawTemperature = scalar(fields.temperature);
  const temperature = rawTemperature === '' ? null : parseTemperature(rawTemperature);
  if (rawTemperature !== '' && temperature === null) return refusal('temperature_out_of_range', 'temperature', rawTemperature, TEMPERATURE_RULE, recordId);

  const photo = scalar(fields.photo);
  if (photo !== '' && (!PHOTO_NAME.test(photo) || photo === '.' || photo === '..')) {
    return refusal('malformed_row', 'photo', photo, 'is not a photo file name (letters, digits, ".", "_", "-")', recordId);
  }

  return { ok: true, row: { recordId, userId, type, occurredAt: time.at, temperature, photo: photo === '' ? null : photo } };
}

/** A row refused as read that the server still holds (docs/protocol/v4.md §4.5 "held rows"): `pin` is the `user_id` as sent. */
export interface HeldAttendanceRow {
  recordId: number;
  pin: string;
  type: 'checkin' | 'checkout';
  occurredAt: Date;
  temperature: number | null;
  photo: string | null;
  reason: 'unknown_user' | 'in_future';
}

/** The far future: the reference that lets every valid time pass the `in_future` check. */
const NO_FUTURE: RowContext = { receivedAt: new Date(8.64e15 - MAX_FUTURE_SKEW_MS - 1) };
const HELD_PIN = /^[^\u0000-\u001f\u007f]{1,64}$/;

/**
 * A row refused as read for `unknown_user` (a `user_id` that is no integer, a device's own id for a
 * person the roster lacks) or `in_future` (a suspect clock), held when every other column is
 * valid; null otherwise (a row broken in another way stays only a rejection).
 */
export function heldAttendanceRow(fields: Readonly<Record<string, string>>, ctx: RowContext, code: RowRejectionCode): HeldAttendanceRow | null {
  if (code !== 'unknown_user' && code !== 'in_future') return null;
  const pin = scalar(fields.user_id);
  if (!HELD_PIN.test(pin)) return null;
  const probe = validateAttendanceRow({ ...fields, user_id: '1' }, code === 'in_future' ? NO_FUTURE : ctx);
  if (!probe.ok) return null;
  const { recordId, type, occurredAt, temperature, photo } = probe.row;
  return { recordId, pin, type, occurredAt, temperature, photo, reason: code };
}
