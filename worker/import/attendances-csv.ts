// attendances.csv (PROTOCOL.md §4): rows streamed, validated, written in chunks; each row ends
// accepted, duplicate or rejected with its code, so received = accepted + duplicates + rejected.
import {
  insertAttendances, insertFeverEvents, insertRejections, storedRecords, usersOfSchool,
  type BatchAttendance, type RejectionRow,
} from '../../db/repositories/batch-import.js';
import { raiseHighWaterMark, readHighWaterMarks } from '../../db/repositories/high-water-marks.js';
import type { FileImportStats } from '../../db/schema/index.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow } from '../../shared/csv/attendance-row.js';
import { readCsvLog } from '../../shared/csv/read-csv-log.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import type { ImportContext } from './context.js';
import { streamEntry } from './read-entry.js';

export const ATTENDANCES_FILE = 'attendances.csv';
const CHUNK_ROWS = 5_000;

interface PendingRow extends BatchAttendance {
  line: number;
}

export async function importAttendances(ctx: ImportContext): Promise<void> {
  if (!ctx.archive.names.includes(ATTENDANCES_FILE)) return;
  const stats: FileImportStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  const rejections: RejectionRow[] = [];
  const knownUsers = new Set<number>();
  const unknownUsers = new Set<number>();
  let highest = 0;
  let chunk: PendingRow[] = [];

  const reject = (line: number, recordId: number | null | undefined, code: RowRejectionCode) => {
    stats.rejected++;
    rejections.push({ file: ATTENDANCES_FILE, line, recordId: recordId ?? null, code });
  };

  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    // unknown_user: not a user of this device's school (the same answer for another school's user).
    const unseen = [...new Set(rows.map((r) => r.userId))].filter((id) => !knownUsers.has(id) && !unknownUsers.has(id));
    if (unseen.length > 0) {
      const found = await usersOfSchool(ctx.trx, ctx.device.schoolId, unseen);
      for (const id of unseen) (found.has(id) ? knownUsers : unknownUsers).add(id);
    }
    const valid = rows.filter((r) => {
      if (knownUsers.has(r.userId)) return true;
      reject(r.line, r.recordId, 'unknown_user');
      return false;
    });
    const inserted = await insertAttendances(ctx.trx, {
      schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id, clockSuspect: ctx.clockSuspect,
    }, valid);
    const insertedIds = new Set<number>();
    const fevers = [];
    for (const row of inserted) {
      insertedIds.add(row.record_id);
      ctx.touched.add(row.user_id, row.occurred_at);
      if (row.temperature !== null && row.temperature >= ctx.school.fever_threshold) {
        fevers.push({ schoolId: ctx.device.schoolId, userId: row.user_id, deviceId: ctx.device.id, attendanceId: row.id, source: 'attendance',
          recordId: row.record_id, temperature: row.temperature, occurredAt: row.occurred_at });
      }
    }
    await insertFeverEvents(ctx.trx, fevers);
    // Rows not inserted hit an existing (device, record_id): same content is a duplicate, other content a conflict.
    const claimed = new Set<number>();
    const others: PendingRow[] = [];
    for (const r of valid) {
      if (insertedIds.has(r.recordId) && !claimed.has(r.recordId)) {
        claimed.add(r.recordId);
        stats.accepted++;
        highest = Math.max(highest, r.recordId);
      } else {
        others.push(r);
      }
    }
    const stored = await storedRecords(ctx.trx, ctx.device.id, others.map((r) => r.recordId));
    for (const r of others) {
      const s = stored.get(r.recordId)!;
      highest = Math.max(highest, r.recordId);
      if (s && Number(s.user_id) === r.userId && s.type === r.type && s.occurred_at.getTime() === r.occurredAt.getTime()) stats.duplicates++;
      else reject(r.line, r.recordId, 'record_conflict');
    }
  };

  try {
    const receivedAt = ctx.session.receivedAt;
    for await (const row of readCsvLog(streamEntry(ctx.archive, ATTENDANCES_FILE), { required: ATTENDANCE_COLUMNS.required, optional: ATTENDANCE_COLUMNS.optional })) {
      stats.received++;
      if (row.malformed) {
        reject(row.line, null, 'malformed_row');
        continue;
      }
      const checked = validateAttendanceRow(row.fields, { receivedAt });
      if (!checked.ok) {
        reject(row.line, checked.recordId, checked.code);
        continue;
      }
      chunk.push({ ...checked.row, line: row.line });
      if (chunk.length >= CHUNK_ROWS) await flush();
    }
    await flush();
  } catch (err) {
    if (!isFileError(err)) throw err;
    ctx.out.errors.push({ file: ATTENDANCES_FILE, code: err.code, detail: err.message });
    return;
  }

  await insertRejections(ctx.trx, ctx.session.id, rejections);
  stats.high_water_mark = highest > 0
    ? await raiseHighWaterMark(ctx.trx, ctx.device.id, ATTENDANCES_FILE, highest)
    : (await readHighWaterMarks(ctx.trx, ctx.device.id, [ATTENDANCES_FILE]))[ATTENDANCES_FILE];
  ctx.out.imports.set(ATTENDANCES_FILE, stats);
  for (const r of rejections) ctx.out.rejections.push({ file: r.file, line: r.line, recordId: r.recordId, code: r.code as RowRejectionCode });
}
