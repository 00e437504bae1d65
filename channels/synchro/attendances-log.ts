// attendances.csv (docs/protocol/v4.md §4), the largest log, imported set-based (issue #21): rows are
// read and validated as they stream from the archive, and the valid ones go on streaming into
// a staging table with COPY (db/repositories/staged-attendances.ts); PostgreSQL then checks
// the users, inserts and raises fever events in one statement.
// The outcome is the CSV-log kit's (channels/kit/csv-log.ts), row for row: every row ends
// accepted, duplicate or rejected, received = accepted + duplicates + rejected, and the
// rejections come in the same order. A file that cannot be read imports none of its rows.
// Memory does not grow with the rows refused (issue #33: 8 million rows naming another school's
// users ran the worker out of memory): rows refused as read are set aside in the stage every
// REJECTIONS_PER_WRITE (between two COPYs), and the rows PostgreSQL refuses (unknown users,
// conflicts) never leave it; one statement stores them all in the kit's order.
import { clearStage, copyIntoStage, openStage, insertFreshStaged, insertStaged, stageLine, stageReadRejections, storeStagedRejections, type ReadRejection, type StageTarget } from '../../db/repositories/staged-attendances.js';
import { insertRejections } from '../../db/repositories/batch-import.js';
import type { FileImportStats } from '../../db/schema/index.js';
import { dropSessionHolds, holdRecords } from '../../db/repositories/held-punches.js';
import { ATTENDANCE_COLUMNS, heldAttendanceRow, validateAttendanceRow, type HeldAttendanceRow } from '../../shared/csv/attendance-row.js';
import { readCsvLog, type CsvLogRow } from '../../shared/csv/read-csv-log.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import { FileError, isFileError } from '../../shared/protocol/file-error.js';
import type { ImportContext } from '../kit/context.js';
import { CHUNK_ROWS, finishLogFile } from '../kit/csv-log.js';
import { streamEntry } from '../kit/read-entry.js';
import { countByCode, HELD_REJECTIONS, noteRejections, REJECTIONS_PER_WRITE } from '../kit/rejections.js';
import { ATTENDANCES_FILE } from './description.js';

/** COPY text is handed over in pieces of about this many characters. */
const COPY_PIECE = 64 * 1024;

export async function importAttendances(ctx: ImportContext): Promise<void> {
  const file = ATTENDANCES_FILE;
  if (!ctx.archive.names.includes(file)) return;
  const stats: FileImportStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  /** Rows refused as read, not yet set aside in the stage (at most REJECTIONS_PER_WRITE). */
  let refused: ReadRejection[] = [];
  /** Rows refused as read but held (unknown_user, in_future: docs/protocol/v4.md §4.5 "held rows"), not yet written; fewer than `refused`. */
  let held: HeldAttendanceRow[] = [];
  /** Rows refused as read and set aside in the stage. */
  let setAside = 0;
  let valid = 0;
  let unreadable: FileError | null = null;
  /** Record ids strictly increasing through the file (each once): the fast insert applies. */
  let increasing = true;
  let lowest = 0;
  let previous = 0;
  /** The user-days of the valid rows, the school's once the users are checked. */
  const rowDays = ctx.touched.fork();
  // Past BATCH_MAX_ROWS rows the file is csv_invalid: staging stops there and none of it is imported.
  const rows = readCsvLog(streamEntry(ctx.archive, file), ATTENDANCE_COLUMNS, { maxRows: ctx.maxRows })[Symbol.asyncIterator]();
  let read = false;

  const refuse = (line: number, recordId: number | null, code: RowRejectionCode, detail: string) => {
    // Reported with the chunk the next valid row falls in, as the kit reports it.
    refused.push({ chunk: Math.floor(valid / CHUNK_ROWS), line, recordId, code, detail });
  };

  // Read, validated and turned into COPY text as PostgreSQL takes it: memory stays flat. Ends
  // (the COPY with it) at the end of the file, or when REJECTIONS_PER_WRITE refused rows are in
  // hand, to set them aside before the next COPY goes on reading.
  async function* copyText(): AsyncGenerator<string> {
    const rowCtx = { receivedAt: ctx.session.receivedAt };
    let piece = '';
    try {
      while (refused.length < REJECTIONS_PER_WRITE) {
        const next: IteratorResult<CsvLogRow> = await rows.next();
        if (next.done) {
          read = true;
          break;
        }
        const row = next.value;
        stats.received++;
        if (row.malformed) {
          refuse(row.line, null, 'malformed_row', row.reason);
          continue;
        }
        const checked = validateAttendanceRow(row.fields, rowCtx);
        if (!checked.ok) {
          refuse(row.line, checked.recordId ?? null, checked.code, checked.detail);
          const kept = heldAttendanceRow(row.fields, rowCtx, checked.code);
          if (kept) held.push(kept);
          continue;
        }
        const { recordId, userId, occurredAt } = checked.row;
        if (valid === 0) lowest = recordId;
        else if (recordId <= previous) increasing = false;
        previous = recordId;
        rowDays.add(ctx.school.id, userId, occurredAt);
        piece += stageLine(valid++, row.line, checked.row);
        if (piece.length >= COPY_PIECE) {
          yield piece;
          piece = '';
        }
      }
    } catch (err) {
      // Ends the COPY cleanly (the transaction goes on); what was staged is left unused.
      if (!isFileError(err)) throw err;
      unreadable = err;
      read = true;
      return;
    }
    if (piece) yield piece;
  }

  const holdTarget = { schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id };
  await openStage(ctx.trx);
  while (!read) {
    await copyIntoStage(ctx.trx, copyText());
    await holdRecords(ctx.trx, holdTarget, held);
    held = [];
    if (!read || refused.length >= REJECTIONS_PER_WRITE) {
      await stageReadRejections(ctx.trx, refused);
      setAside += refused.length;
      refused = [];
    }
  }
  const fileError = unreadable as FileError | null;
  if (fileError) {
    await clearStage(ctx.trx);
    await dropSessionHolds(ctx.trx, ctx.device.schoolId, ctx.session.id);
    ctx.out.errors.push({ file, code: fileError.code, detail: fileError.message });
    return;
  }

  const target: StageTarget = {
    schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id, clockSuspect: ctx.clockSuspect,
    feverThreshold: ctx.school.fever_threshold,
  };
  let highest = 0;
  /** Some staged rows were not inserted: unknown users, duplicates or conflicts to sort out. */
  let rest = false;
  if (valid > 0) {
    const inserted = (increasing ? await insertFreshStaged(ctx.trx, target, lowest) : null) ?? await insertStaged(ctx.trx, target);
    stats.accepted = inserted.accepted;
    highest = inserted.highest ?? 0;
    rest = inserted.known < inserted.staged || inserted.accepted < inserted.known;
  }
  if (rest || setAside > 0) {
    const stored = await storeStagedRejections(ctx.trx, target, { file, chunkRows: CHUNK_ROWS, read: refused, rest, first: HELD_REJECTIONS });
    stats.duplicates = stored.duplicates;
    stats.rejected = Object.values(stored.counts).reduce((a, b) => a + b, 0);
    noteRejections(ctx.out, stored.counts, stored.first.map((r) => ({ file, line: r.line, recordId: r.recordId, code: r.code as RowRejectionCode, detail: r.detail })));
    // Days of rows held before (duplicates, conflicts) are recomputed too, unchanged: cheaper
    // than asking PostgreSQL which rows went in. Never another school's user: that is its data.
    if (valid > 0) ctx.touched.merge(rowDays, stored.knownUsers === null ? undefined : new Set(stored.knownUsers));
  } else {
    // The usual batch: a few rows refused as read at most, stored as they are.
    const mine = refused.map((r) => ({ file, line: r.line, recordId: r.recordId, code: r.code as RowRejectionCode, detail: r.detail }));
    await insertRejections(ctx.trx, ctx.session.id, mine);
    stats.rejected = mine.length;
    noteRejections(ctx.out, countByCode(mine), mine);
    if (valid > 0) ctx.touched.merge(rowDays);
  }

  await finishLogFile(ctx, file, stats, highest);
}
