// attendances.csv (PROTOCOL.md §4) as a CSV log: accepted rows touch their user-days and raise a
// fever event when their temperature reaches the school's threshold.
import { insertAttendances, insertFeverEvents, storedRecords, type StoredRecord } from '../../db/repositories/batch-import.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow, type AttendanceRow } from '../../shared/csv/attendance-row.js';
import type { ImportContext } from '../kit/context.js';
import { importCsvLog, type CsvLog } from '../kit/csv-log.js';
import { ATTENDANCES_FILE } from './description.js';

export const attendancesLog: CsvLog<AttendanceRow, StoredRecord> = {
  file: ATTENDANCES_FILE,
  columns: ATTENDANCE_COLUMNS,
  validate: validateAttendanceRow,
  userOf: (row) => row.userId,
  async insert(ctx, rows) {
    const inserted = await insertAttendances(ctx.trx, {
      schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id, clockSuspect: ctx.clockSuspect,
    }, rows);
    // The rows' content is at hand: only the new ids come back from PostgreSQL.
    const idOf = new Map(inserted.map((r) => [Number(r.record_id), Number(r.id)]));
    const fevers = [];
    for (const row of rows) {
      const id = idOf.get(row.recordId);
      if (id === undefined) continue;
      ctx.touched.add(row.userId, row.occurredAt);
      if (row.temperature !== null && row.temperature >= ctx.school.fever_threshold) {
        fevers.push({ schoolId: ctx.device.schoolId, userId: row.userId, deviceId: ctx.device.id, attendanceId: id, source: 'attendance',
          recordId: row.recordId, temperature: row.temperature, occurredAt: row.occurredAt });
      }
    }
    await insertFeverEvents(ctx.trx, fevers);
    return [...idOf.keys()];
  },
  stored: (ctx, recordIds) => storedRecords(ctx.trx, ctx.device.id, recordIds),
  sameContent: (row, s) => Number(s.user_id) === row.userId && s.type === row.type && s.occurred_at.getTime() === row.occurredAt.getTime(),
};

export function importAttendances(ctx: ImportContext): Promise<void> {
  return importCsvLog(ctx, attendancesLog);
}
