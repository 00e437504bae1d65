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
import {
  checkTime, parseRecordId, parseTemperature, parseUserId, scalar,
  type RowContext, type RowResult,
} from './row-fields.js';

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
  const recordId = parseRecordId(scalar(fields.record_id));
  if (recordId === null) return { ok: false, code: 'invalid_record_id' };

  const userId = parseUserId(scalar(fields.user_id));
  if (userId === null) return { ok: false, code: 'unknown_user', recordId };

  const type = scalar(fields.type);
  if (type !== 'checkin' && type !== 'checkout') return { ok: false, code: 'invalid_type', recordId };

  const time = checkTime(scalar(fields.occurred_at), ctx);
  if (!time.ok) return { ok: false, code: time.code, recordId };

  const rawTemperature = scalar(fields.temperature);
  const temperature = rawTemperature === '' ? null : parseTemperature(rawTemperature);
  if (rawTemperature !== '' && temperature === null) return { ok: false, code: 'temperature_out_of_range', recordId };

  const photo = scalar(fields.photo);
  if (photo !== '' && (!PHOTO_NAME.test(photo) || photo === '.' || photo === '..')) return { ok: false, code: 'malformed_row', recordId };

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
