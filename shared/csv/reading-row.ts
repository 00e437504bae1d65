// One `readings.csv` row on `sondes` (docs/protocol/v4.md §7): a temperature screening. Checks run in
// this order: record_id → user_id → measured_at → temperature → sensor. As for attendances, a
// user_id that is not a positive integer is `unknown_user` and a non-decimal temperature is
// `temperature_out_of_range`; here an empty user_id means "not identified" and is fine, while an
// empty temperature is out of range (it is required). A sensor name that is not 1–64 printable
// characters has no code of its own: `malformed_row`.

import {
  checkTime, isShortText, parseRecordId, parseTemperature, parseUserId, scalar,
  type RowContext, type RowResult,
} from './row-fields.js';

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
  const recordId = parseRecordId(scalar(fields.record_id));
  if (recordId === null) return { ok: false, code: 'invalid_record_id' };

  const rawUser = scalar(fields.user_id);
  const userId = rawUser === '' ? null : parseUserId(rawUser);
  if (rawUser !== '' && userId === null) return { ok: false, code: 'unknown_user', recordId };

  const time = checkTime(scalar(fields.measured_at), ctx);
  if (!time.ok) return { ok: false, code: time.code, recordId };

  const temperature = parseTemperature(scalar(fields.temperature));
  if (temperature === null) return { ok: false, code: 'temperature_out_of_range', recordId };

  const sensor = scalar(fields.sensor);
  if (sensor !== '' && !isShortText(sensor, MAX_SENSOR_LENGTH)) return { ok: false, code: 'malformed_row', recordId };

  return { ok: true, row: { recordId, userId, measuredAt: time.at, temperature, sensor: sensor === '' ? null : sensor } };
}
