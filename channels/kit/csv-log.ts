// One device CSV log (attendances.csv, readings.csv, messages.csv — docs/protocol/v4.md §4, §7), the same
// way for every channel: rows streamed from the archive, validated, written in chunks with one
// set-based INSERT … ON CONFLICT DO NOTHING each, rows not inserted sorted into duplicates (same
// content already held) and `record_conflict`s, rejections stored as they come (a chunk at a
// time, channels/kit/rejections.ts), the high-water mark raised.
// Every row ends accepted, duplicate or rejected: received = accepted + duplicates + rejected.
import { usersOfSchool } from '../../db/repositories/batch-import.js';
import { raiseHighWaterMark, readHighWaterMarks } from '../../db/repositories/high-water-marks.js';
import type { FileImportStats } from '../../db/schema/index.js';
import { readCsvLog, type CsvLogSpec } from '../../shared/csv/read-csv-log.js';
import type { RowContext, RowResult } from '../../shared/csv/row-fields.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import type { ImportContext } from './context.js';
import { streamEntry } from './read-entry.js';
import { RejectionSpool } from './rejections.js';

/**
 * Valid rows checked and written together, a chunk at a time: what an import holds in memory and
 * writes per statement. Rejections are reported in the order this gives (a row's own fault as
 * read, a chunk's unknown users when it is written): channels/synchro/attendances-log.ts, which
 * skips the chunks, reports them in the same order by this number.
 */
export const CHUNK_ROWS = 5_000;
/** Unknown user ids remembered at most (the school's own users are bounded by the school). */
const UNKNOWN_USERS_KEPT = 50_000;

export interface CsvLog<Row extends { recordId: number }, Stored> {
  file: string;
  columns: CsvLogSpec;
  validate(fields: Readonly<Record<string, string>>, ctx: RowContext): RowResult<Row>;
  /** The user a row names, which must belong to the device's school (`unknown_user`); null when none. */
  userOf?(row: Row): number | null;
  /**
   * Inserts the rows (distinct record ids), skipping any (device, record_id) already held, and
   * does what an accepted row implies (fever events, touched user-days, alerts). Returns the
   * record ids inserted.
   */
  insert(ctx: ImportContext, rows: readonly Row[]): Promise<number[]>;
  /** What the server holds for these record ids of the device. */
  stored(ctx: ImportContext, recordIds: readonly number[]): Promise<Map<number, Stored>>;
  /** Same content: a duplicate; otherwise `record_conflict` and the stored row is kept. */
  sameContent(row: Row, stored: Stored): boolean;
}

type Pending<Row> = Row & { line: number };

/** The detail of an `unknown_user` decided against the database (staged-attendances.ts writes the same words in SQL). */
export const unknownUserDetail = (userId: number) => `user_id ${userId} is not a user of this school`;
/** The detail of a `record_conflict` (staged-attendances.ts writes the same words in SQL). */
export const recordConflictDetail = (recordId: number) => `record_id ${recordId} is already held for this device with other content`;

/** The fewest bytes a CSV row takes: a character and a line break (blank lines are skipped). */
const MIN_ROW_BYTES = 2;

/**
 * Whether the log holds at most `maxRows` rows, read through once without importing anything:
 * a log that may exceed it (its declared size allows more rows) is counted first, since rows
 * are written chunk by chunk as they are read, and one with more must import none of them.
 * False when it is unreadable or too long, reported as the file's error.
 */
async function withinRowLimit(ctx: ImportContext, file: string, columns: CsvLogSpec): Promise<boolean> {
  const size = ctx.archive.entries.find((e) => e.name === file)?.size ?? 0;
  if (size <= MIN_ROW_BYTES * ctx.maxRows) return true;
  try {
    for await (const row of readCsvLog(streamEntry(ctx.archive, file), columns, { maxRows: ctx.maxRows })) void row;
    return true;
  } catch (err) {
    if (!isFileError(err)) throw err;
    ctx.out.errors.push({ file, code: err.code, detail: err.message });
    return false;
  }
}

export async function importCsvLog<Row extends { recordId: number }, Stored>(ctx: ImportContext, log: CsvLog<Row, Stored>): Promise<void> {
  const file = log.file;
  if (!ctx.archive.names.includes(file)) return;
  if (!(await withinRowLimit(ctx, file, log.columns))) return;
  const stats: FileImportStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  const rejections = new RejectionSpool(ctx.trx, ctx.device.schoolId, ctx.session.id, ctx.out);
  const knownUsers = new Set<number>();
  /** Ids found not to be the school's users, remembered to save a lookup; forgotten past UNKNOWN_USERS_KEPT (any number may be sent). */
  const unknownUsers = new Set<number>();
  let highest = 0;
  let chunk: Pending<Row>[] = [];

  const reject = (line: number, recordId: number | null | undefined, code: RowRejectionCode, detail: string) => {
    stats.rejected++;
    rejections.add({ file, line, recordId: recordId ?? null, code, detail });
  };

  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    let valid = rows;
    if (log.userOf) {
      const userOf = log.userOf;
      // unknown_user: not a user of this device's school (the same answer for another school's user).
      const named = rows.map(userOf).filter((id): id is number => id !== null);
      const unseen = [...new Set(named)].filter((id) => !knownUsers.has(id) && !unknownUsers.has(id));
      if (unseen.length > 0) {
        const found = await usersOfSchool(ctx.trx, ctx.device.schoolId, unseen);
        if (unknownUsers.size > UNKNOWN_USERS_KEPT) unknownUsers.clear();
        for (const id of unseen) (found.has(id) ? knownUsers : unknownUsers).add(id);
      }
      valid = rows.filter((r) => {
        const user = userOf(r);
        if (user === null || knownUsers.has(user)) return true;
        reject(r.line, r.recordId, 'unknown_user', unknownUserDetail(user));
        return false;
      });
    }
    // A record id is inserted at most once per chunk: a second row with it is compared like any other.
    const first = new Map<number, Pending<Row>>();
    const others: Pending<Row>[] = [];
    for (const r of valid) {
      highest = Math.max(highest, r.recordId);
      if (first.has(r.recordId)) others.push(r);
      else first.set(r.recordId, r);
    }
    const insertedIds = new Set(await log.insert(ctx, [...first.values()]));
    for (const r of first.values()) {
      if (insertedIds.has(r.recordId)) stats.accepted++;
      else others.push(r);
    }
    const stored = await log.stored(ctx, others.map((r) => r.recordId));
    for (const r of others) {
      const s = stored.get(r.recordId);
      if (s !== undefined && log.sameContent(r, s)) stats.duplicates++;
      else reject(r.line, r.recordId, 'record_conflict', recordConflictDetail(r.recordId));
    }
    if (rejections.full) await rejections.flush();
  };

  try {
    const rowCtx = { receivedAt: ctx.session.receivedAt };
    for await (const row of readCsvLog(streamEntry(ctx.archive, file), log.columns, { maxRows: ctx.maxRows })) {
      stats.received++;
      if (row.malformed) {
        reject(row.line, null, 'malformed_row', row.reason);
        if (rejections.full) await rejections.flush();
        continue;
      }
      const checked = log.validate(row.fields, rowCtx);
      if (!checked.ok) {
        reject(row.line, checked.recordId, checked.code, checked.detail);
        if (rejections.full) await rejections.flush();
        continue;
      }
      chunk.push({ ...checked.row, line: row.line });
      if (chunk.length >= CHUNK_ROWS) await flush();
    }
    await flush();
  } catch (err) {
    if (!isFileError(err)) throw err;
    await rejections.discard(file);
    ctx.out.errors.push({ file, code: err.code, detail: err.message });
    return;
  }

  await rejections.flush();
  await finishLogFile(ctx, file, stats, highest);
}

/**
 * The end of every log file's import, whichever way its rows were stored, once its rejections
 * are: its high-water mark raised to the highest record id read (or read back when no row
 * was), and the report's part for it.
 */
export async function finishLogFile(ctx: ImportContext, file: string, stats: FileImportStats, highest: number): Promise<void> {
  stats.high_water_mark = highest > 0
    ? await raiseHighWaterMark(ctx.trx, ctx.device.schoolId, ctx.device.id, file, highest)
    : (await readHighWaterMarks(ctx.trx, ctx.device.schoolId, ctx.device.id, [file]))[file];
  ctx.out.imports.set(file, stats);
}
