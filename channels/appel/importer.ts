// `appel` (docs/protocol/v4.md §7.4): a teacher's roll call. marks.csv is a CSV log like
// attendances.csv (same row rules, high-water mark, deduplication); each accepted row is a mark
// by a teacher (the device as author), and the marked user-days are recomputed in the batch's
// own transaction, as an import of attendances does (DESIGN's marks rules: shared/attendance/marks.ts).
import { insertDeviceMarks, storedDeviceMarks, type StoredDeviceMark } from '../../db/repositories/marks.js';
import { refreshDays } from '../../db/repositories/user-days.js';
import { MARK_COLUMNS, validateMarkRow, type MarkRow } from '../../shared/csv/mark-row.js';
import { importCsvLog, type CsvLog } from '../kit/csv-log.js';
import type { ChannelImporter } from '../kit/importer.js';
import { MARKS_FILE } from './description.js';

const marksLog: CsvLog<MarkRow, StoredDeviceMark> = {
  file: MARKS_FILE,
  columns: MARK_COLUMNS,
  validate: validateMarkRow,
  userOf: (row) => row.userId,
  async insert(ctx, rows) {
    const inserted = await insertDeviceMarks(ctx.trx, { schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id }, rows);
    await refreshDays(ctx.trx, inserted.map((m) => ({ schoolId: ctx.device.schoolId, userId: m.userId, date: m.date })));
    return inserted.map((m) => m.recordId);
  },
  stored: (ctx, recordIds) => storedDeviceMarks(ctx.trx, ctx.device.schoolId, ctx.device.id, recordIds),
  sameContent: (row, s) => Number(s.user_id) === row.userId && s.date === row.date && s.period === row.period && s.mark === row.mark
    && s.reason === row.reason && s.marked_at.getTime() === row.markedAt.getTime(),
};

export const appelImporter: ChannelImporter = {
  name: 'appel',
  import: (ctx) => importCsvLog(ctx, marksLog),
};
