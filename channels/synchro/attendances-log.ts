// attendances.csv (docs/protocol/v4.md §4), the largest log, imported set-based (issue #21): rows are
// read and validated as they stream from the archive, and the valid ones go on streaming into
// a staging table with COPY (db/repositories/staged-attendances.ts); PostgreSQL then checks
// the users, inserts and raises fever events in one statement.
// The outcome is the CSV-log kit's (channels/kit/csv-log.ts), row for row: every row ends
// accepted, duplicate or rejected, received = accepted + duplicates + rejected, and the
// rejections come in the same order. A file that cannot be read imports none of its rows.
import type { RejectionRow } from '../../db/repositories/batch-import.js';
import { clearStage, copyIntoStage, insertFreshStaged, insertStaged, sortStagedRest, stageLine, type StageTarget } from '../../db/repositories/staged-attendances.js';
import type { FileImportStats } from '../../db/schema/index.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow } from '../../shared/csv/attendance-row.js';
import { readCsvLog } from '../../shared/csv/read-csv-log.js';
import { FileError, isFileError } from '../../shared/protocol/file-error.js';
import type { ImportContext } from '../kit/context.js';
import { finishLogFile } from '../kit/csv-log.js';
import { streamEntry } from '../kit/read-entry.js';
import { ATTENDANCES_FILE } from './description.js';

/** COPY text is handed over in pieces of about this many characters. */
const COPY_PIECE = 64 * 1024;
/** The CSV-log kit's chunk: rejections are reported in the order its chunk by chunk import gives. */
const CHUNK_ROWS = 5_000;

export async function importAttendances(ctx: ImportContext): Promise<void> {
  const file = ATTENDANCES_FILE;
  if (!ctx.archive.names.includes(file)) return;
  const stats: FileImportStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  let rejections: RejectionRow[] = [];
  let valid = 0;
  /** The line of every CHUNK_ROWS-th valid row: where the kit would have written a chunk. */
  const chunkEnds: number[] = [];
  let unreadable: FileError | null = null;
  /** Record ids strictly increasing through the file (each once): the fast insert applies. */
  let increasing = true;
  let lowest = 0;
  let previous = 0;
  /** The user-days of the valid rows, the school's once the users are checked. */
  const rowDays = ctx.touched.fork();

  // Read, validated and turned into COPY text as PostgreSQL takes it: memory stays flat.
  async function* copyText(): AsyncGenerator<string> {
    const rowCtx = { receivedAt: ctx.session.receivedAt };
    let piece = '';
    try {
      for await (const row of readCsvLog(streamEntry(ctx.archive, file), ATTENDANCE_COLUMNS)) {
        stats.received++;
        if (row.malformed) {
          rejections.push({ file, line: row.line, recordId: null, code: 'malformed_row' });
          continue;
        }
        const checked = validateAttendanceRow(row.fields, rowCtx);
        if (!checked.ok) {
          rejections.push({ file, line: row.line, recordId: checked.recordId ?? null, code: checked.code });
          continue;
        }
        const { recordId, userId, occurredAt } = checked.row;
        if (valid === 0) lowest = recordId;
        else if (recordId <= previous) increasing = false;
        previous = recordId;
        rowDays.add(userId, occurredAt);
        piece += stageLine(valid++, row.line, checked.row);
        if (valid % CHUNK_ROWS === 0) chunkEnds.push(row.line);
        if (piece.length >= COPY_PIECE) {
          yield piece;
          piece = '';
        }
      }
    } catch (err) {
      // Ends the COPY cleanly (the transaction goes on); what was staged is left unused.
      if (!isFileError(err)) throw err;
      unreadable = err;
      return;
    }
    if (piece) yield piece;
  }

  await copyIntoStage(ctx.trx, copyText());
  const fileError = unreadable as FileError | null;
  if (fileError) {
    await clearStage(ctx.trx);
    ctx.out.errors.push({ file, code: fileError.code, detail: fileError.message });
    return;
  }

  let highest = 0;
  if (valid > 0) {
    const target: StageTarget = {
      schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id, clockSuspect: ctx.clockSuspect,
      feverThreshold: ctx.school.fever_threshold,
    };
    const inserted = (increasing ? await insertFreshStaged(ctx.trx, target, lowest) : null) ?? await insertStaged(ctx.trx, target);
    stats.accepted = inserted.accepted;
    highest = inserted.highest ?? 0;
    const unknownUsers = new Set<number>();
    if (inserted.known < inserted.staged || inserted.accepted < inserted.known) {
      const rest = await sortStagedRest(ctx.trx, target, CHUNK_ROWS);
      stats.duplicates = rest.duplicates;
      for (const r of rest.rejections) if (r.code === 'unknown_user') unknownUsers.add(r.userId);
      rejections = inKitOrder(rejections, rest.rejections.map((r) => ({ chunk: r.chunk, row: { file, line: r.line, recordId: r.recordId, code: r.code } })), chunkEnds);
    }
    // Days of rows held before (duplicates, conflicts) are recomputed too, unchanged: cheaper
    // than asking PostgreSQL which rows went in. Never another school's user: that is its data.
    ctx.touched.merge(rowDays, unknownUsers);
  }
  stats.rejected = rejections.length;

  await finishLogFile(ctx, file, stats, rejections, highest);
}

/**
 * The kit reported a row's own rejection as it read the row, and a chunk's unknown users and
 * conflicts when it wrote the chunk, right after reading its last row (the last, partial
 * chunk at the end): `read` (line order) merged with `written` (chunk by chunk) the same way.
 */
function inKitOrder(read: RejectionRow[], written: Array<{ chunk: number; row: RejectionRow }>, chunkEnds: readonly number[]): RejectionRow[] {
  const out: RejectionRow[] = [];
  let r = 0;
  for (let w = 0; w < written.length; w++) {
    const end = chunkEnds[written[w].chunk] ?? Infinity;
    while (r < read.length && read[r].line < end) out.push(read[r++]);
    out.push(written[w].row);
  }
  while (r < read.length) out.push(read[r++]);
  return out;
}
