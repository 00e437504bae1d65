// One `readings.csv` row on `sondes` (docs/protocol/v4.md §7): a temperature screening. Checks run in
// this order: record_id → user_id → measured_at → temperature → sensor. As for attendances, a
// user_id that is not a positive integer is `unknown_user` and a non-decimal temperature is
// `temperature_out_of_range`; here an empty user_id means "not identified" and is fine, while an
// empty temperature is out of range (it is required). A sensor name that is not 1–64 printable
// characters has no code of its own: `malformed_row`.

import {
  MAX_USER_ID, checkTime, isShortText, parseRecordId, parseTemperature, parseUserId, refusal, scalar,
  type RowContext, type RowResult,
} from './row-fields.js';
import { RECORD_ID_RULE, TEMPERATURE_RULE } from './row-rules.js';

export const READING_COLUMNS = {
  required: ['record_id', 'measured_at', 'temperature'],
  optional: ['user_id', 'sensor'],
} as const;

export const MAX_SENSOR_LENGTH = 64;

export interface ReadingRow {
  recordId: number;
  userId: number | null;
  measuredAt: Date;
  temperature: number;
  sensor: string | null;
}

export function validateReadingRow(fields: Readonly<Record<string, string>>, ctx: RowContext): RowResult<ReadingRow> {
  const rawRecordId = scalar(fields.record_id);
  const recordId = parseRecordId(rawRecordId);
  if (recordId === null) return refusal('invalid_record_id', 'record_id', rawRecordId, RECORD_ID_RULE);

  const rawUser = scalar(fields.user_id);
  const userId = rawUser === '' ? null : parseUserId(rawUser);
  if (rawUser !== '' && userId === null) return refusal('unknown_user', 'user_id', rawUser, `is not a user id (an integer from 1 to ${MAX_USER_ID}, or empty)`, recordId);

  const rawTime = scalar(fields.measured_at);
  const time = checkTime(rawTime, ctx);
  if (!time.ok) return refusal(time.code, 'measured_at', rawTime, time.rule, recordId);

  const rawTemperature = scalar(fields.temperature);
  const temperature = parseTemperature(rawTemperature);
  if (temperature === null) return refusal('temperature_out_of_range', 'temperature', rawTemperature, TEMPERATURE_RULE, recordId);

  const sensor = scalar(fields.sensor);
  if (sensor !== '' && !isShortText(sensor, MAX_SENSOR_LENGTH)) return refusal('malformed_row', 'sensor', sensor, `is not 1–${MAX_SENSOR_LENGTH} printable characters`, recordId);

  return { ok: true, row: { recordId, userId, measuredAt: time.at, temperature, sensor: sensor === '' ? null : sensor } };
}
