// `sondes` (docs/protocol/v4.md §7): temperature screenings every 30–60 s. readings.csv is a CSV log like
// attendances.csv (same row rules, high-water mark, deduplication); each accepted reading at or
// above the school's fever threshold raises a fever event (GET /api/alerts) and an `<alert>` in
// the package.
import { insertReadings, storedReadings, type StoredReading } from '../../db/repositories/readings.js';
import { READING_COLUMNS, validateReadingRow, type ReadingRow } from '../../shared/csv/reading-row.js';
import { importCsvLog, type CsvLog } from '../kit/csv-log.js';
import type { ChannelImporter } from '../kit/importer.js';
import { READINGS_FILE } from './description.js';


/** Stored temperatures keep one decimal: a resent 36.65 is the 36.7 already held. */
const sameTemperature = (a: number, b: number) => Math.abs(a - b) <= 0.05 + 1e-9;

const readingsLog: CsvLog<ReadingRow, StoredReading> = {
  file: READINGS_FILE,
  columns: READING_COLUMNS,
  validate: validateReadingRow,
  userOf: (row) => row.userId,
  async insert(ctx, rows) {
    const inserted = await insertReadings(ctx.trx, {
      schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id, feverThreshold: ctx.school.fever_threshold,
    }, rows);
    for (const r of inserted) {
      if (r.fever) {
        ctx.out.alerts.push({ kind: 'fever', recordId: Number(r.record_id), userId: r.user_id === null ? null : Number(r.user_id), temperature: r.temperature, measuredAt: r.measured_at });
      }
    }
    return inserted.map((r) => Number(r.record_id));
  },
  stored: (ctx, recordIds) => storedReadings(ctx.trx, ctx.device.schoolId, ctx.device.id, recordIds),
  sameContent: (row, s) => (s.user_id === null ? null : Number(s.user_id)) === row.userId
    && s.measured_at.getTime() === row.measuredAt.getTime() && sameTemperature(s.temperature, row.temperature),
};

export const sondesImporter: ChannelImporter = {
  name: 'sondes',
  import: (ctx) => importCsvLog(ctx, readingsLog),
};
