// attendances.csv imported set-based (issue #21): the validated rows stream into a temporary
// table with COPY, then one statement checks the users, inserts the first row of every record
// id and raises the fever events, and, only when some row was not inserted (or many rows were
// refused as read), one more sorts those into unknown users, duplicates and record conflicts
// and stores every rejection of the file, in PostgreSQL: however many rows a batch refuses, the
// worker never holds them (issue #33).
// Same rules as the CSV-log kit (channels/kit/csv-log.ts) applies to the other logs.
import { CompiledQuery, sql, type DatabaseConnection } from 'kysely';
import type { AttendanceRow } from '../../shared/csv/attendance-row.js';
import { copyText } from '../copy-text.js';
import type { Trx } from '../database.js';
import { fromEpochMs } from '../epoch-ms.js';

export interface StageTarget {
  schoolId: number;
  deviceId: string;
  sessionId: string;
  clockSuspect: boolean;
  feverThreshold: number;
}

const STAGE_TABLES = (onCommit: string) => [`
    CREATE TEMP TABLE IF NOT EXISTS import_attendances (
      -- ord: the row's place among the file's valid rows (its chunk, for the order of rejections).
      ord integer NOT NULL, line integer NOT NULL, record_id bigint NOT NULL, user_id bigint NOT NULL, type text NOT NULL,
      -- Epoch milliseconds (db/epoch-ms.ts).
      occurred_ms bigint NOT NULL,
      -- As read: the fever threshold is compared with the value sent, before numeric(4,1) rounds it.
      temperature numeric, photo text
    ) ON COMMIT ${onCommit}
  `,
  // Rows refused as they were read, when there are many (stageReadRejections): their chunk places them among the others.
  `
    CREATE TEMP TABLE IF NOT EXISTS import_rejections (
      chunk integer NOT NULL, line integer NOT NULL, record_id bigint, code text NOT NULL, detail text
    ) ON COMMIT ${onCommit}
  `];

/**
 * The stage: one per worker connection, made when the connection opens (worker/worker.ts,
 * `connectDatabase`'s onConnect) so an import does not spend a statement on
 * `CREATE TEMP TABLE IF NOT EXISTS` (one of ~12 per scheduled sync, issue #21). Emptied at
 * every commit; PostgreSQL only empties it in transactions that touched it.
 */
export async function createAttendanceStage(connection: DatabaseConnection): Promise<void> {
  for (const statement of STAGE_TABLES('DELETE ROWS')) await connection.executeQuery(CompiledQuery.raw(statement));
}

/**
 * Behind a pooler in transaction mode (DATABASE_DIRECT_URL), each transaction may run on another
 * server session, which has no stage of the connection's: the stage is then made in every
 * import's transaction instead, and dropped at its end (`ON COMMIT DROP`, or the rollback),
 * so no session is left holding a table. Once per process (worker/worker.ts).
 */
let stagePerTransaction = false;
export function stageInEachTransaction(): void {
  stagePerTransaction = true;
}

/** Transactions whose stage holds a file's rows: a group of batches imported in one transaction (worker/import/import-session.ts). */
const staged = new WeakSet<Trx>();

/**
 * The stage ready and empty for a file's rows, in `trx`: made in it when it is made per
 * transaction (see above); emptied, in one round trip, when an earlier batch of the same
 * transaction used it (the commit empties it otherwise).
 */
export async function openStage(trx: Trx): Promise<void> {
  if (staged.has(trx)) {
    await clearStage(trx);
    return;
  }
  staged.add(trx);
  if (!stagePerTransaction) return;
  for (const statement of STAGE_TABLES('DROP')) await sql.raw(statement).execute(trx);
}

/** Empties the stage before the end of the transaction (a file that turned out unreadable, or the next batch's): one round trip. */
export async function clearStage(trx: Trx): Promise<void> {
  await sql.raw('DELETE FROM import_attendances; DELETE FROM import_rejections').execute(trx);
}

/**
 * A row refused as it was read (malformed_row, invalid_type …). `chunk`: the chunk of
 * `chunkRows` valid rows it is reported with, the one the next valid row falls in (the kit
 * reports a row's own fault as it reads it, before the chunk is written).
 */
export interface ReadRejection {
  chunk: number;
  line: number;
  recordId: number | null;
  code: string;
  /** What is wrong (docs/protocol/v4.md §4.5). */
  detail: string;
}

const readRejectionArrays = (rows: readonly ReadRejection[]) => sql`unnest(${rows.map((r) => r.chunk)}::int[], ${rows.map((r) => r.line)}::int[],
  ${rows.map((r) => (r.recordId === null ? null : String(r.recordId)))}::bigint[], ${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.detail)}::text[])`;

/** Read rejections set aside in the stage (between two COPYs), to be stored with the rest by `storeStagedRejections`. */
export async function stageReadRejections(trx: Trx, rows: readonly ReadRejection[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`INSERT INTO import_rejections (chunk, line, record_id, code, detail) SELECT * FROM ${readRejectionArrays(rows)}`.execute(trx);
}

/** A validated row as a COPY text line: a photo name is [A-Za-z0-9._-] only (PHOTO_NAME), nothing needs escaping. */
export function stageLine(ord: number, line: number, r: AttendanceRow): string {
  return `${ord}\t${line}\t${r.recordId}\t${r.userId}\t${r.type}\t${r.occurredAt.getTime()}\t${r.temperature ?? '\\N'}\t${r.photo ?? '\\N'}\n`;
}

/**
 * COPY text into the stage, on the transaction's own connection. Text that comes in one piece
 * (a scheduled sync's few rows) goes in with one INSERT that splits it in PostgreSQL: COPY is
 * two round trips and a stream, which at a fleet's peak was the longest statement of an
 * import's transaction (npm run bench -- fleet --statements, issue #31). More streams in COPY.
 */
export async function copyIntoStage(trx: Trx, text: AsyncIterable<string>): Promise<void> {
  const pieces = text[Symbol.asyncIterator]();
  const first = await pieces.next();
  if (first.done) return;
  const second = await pieces.next();
  if (second.done) {
    await insertStageText(trx, first.value);
    return;
  }
  await copyStageText(trx, (async function* () {
    yield first.value;
    yield second.value;
    for (let next = await pieces.next(); !next.done; next = await pieces.next()) yield next.value;
  })());
}

/** One piece of COPY text (stageLine's lines: tab-separated, \N for null, nothing escaped), split into rows by PostgreSQL. */
async function insertStageText(trx: Trx, text: string): Promise<void> {
  await sql`INSERT INTO import_attendances (ord, line, record_id, user_id, type, occurred_ms, temperature, photo)
    SELECT f[1]::int, f[2]::int, f[3]::bigint, f[4]::bigint, f[5], f[6]::bigint, nullif(f[7], '\\N')::numeric, nullif(f[8], '\\N')
    FROM string_to_table(rtrim(${text}::text, E'\\n'), E'\\n') AS l, string_to_array(l, E'\\t') AS f`.execute(trx);
}

function copyStageText(trx: Trx, text: AsyncIterable<string>): Promise<void> {
  return copyText(trx, 'COPY import_attendances (ord, line, record_id, user_id, type, occurred_ms, temperature, photo) FROM STDIN', text);
}

/** The targets both inserts below write, in the order their SELECTs give. */
const INTO_ATTENDANCES = sql`INSERT INTO attendances (school_id, user_id, device_id, record_id, type, occurred_at, temperature, photo, session_id, clock_suspect)`;
const INTO_FEVER_EVENTS = sql`INSERT INTO fever_events (school_id, user_id, device_id, attendance_id, source, record_id, temperature, occurred_at)`;

export interface StagedInsert {
  staged: number;
  /** Rows naming a user of the school. */
  known: number;
  accepted: number;
  highest: number | null;
}

type CountsRow = { staged: number; known: number; accepted: number; highest: string | null };
const asInsert = (r: CountsRow): StagedInsert => ({ staged: r.staged, known: r.known, accepted: r.accepted, highest: r.highest === null ? null : Number(r.highest) });

/**
 * The common batch, fast: record ids strictly increasing in the file (so each is there once)
 * and all above every record id the device holds. Then every row of a known user is new, and
 * the rows go in with a plain INSERT: ON CONFLICT's speculative insertion (a unique probe and
 * an extra WAL record per row) and the DISTINCT ON sort cost a quarter of the statement
 * (measured on 50,000 rows, issue #21). Answers null, having written nothing, when the device
 * holds a record id from `lowest` up (a batch sent again): `insertStaged` sorts that out.
 * A batch of the same device committing in between makes this fail on the unique index (the
 * import is retried), never store a row twice.
 */
export async function insertFreshStaged(trx: Trx, t: StageTarget, lowest: number): Promise<StagedInsert | null> {
  // `known` is read once (by the insert), so PostgreSQL streams it instead of materializing
  // it: the counts come from the insert's own rows (here every known row goes in) and the
  // fevers from the few staged rows at or above the threshold.
  const result = await sql<CountsRow & { fresh: boolean }>`
    WITH fresh AS (
      SELECT coalesce(max(record_id), 0) < ${lowest} AS ok FROM attendance_keys WHERE school_id = ${t.schoolId} AND device_id = ${t.deviceId}::uuid
    ), ins AS (
      ${INTO_ATTENDANCES}
      SELECT ${t.schoolId}, s.user_id, ${t.deviceId}::uuid, s.record_id, s.type, ${fromEpochMs('s.occurred_ms')}, s.temperature, s.photo, ${t.sessionId}::uuid, ${t.clockSuspect}
      FROM import_attendances s JOIN users u ON u.id = s.user_id AND u.school_id = ${t.schoolId}
      WHERE (SELECT ok FROM fresh)
      ORDER BY s.line
      RETURNING id, user_id, record_id, occurred_at
    ), keys AS (
      -- The dedup key (attendance_keys: the partitioned table cannot hold it), plain too.
      INSERT INTO attendance_keys (school_id, device_id, record_id, attendance_id, occurred_at) SELECT ${t.schoolId}, ${t.deviceId}::uuid, record_id, id, occurred_at FROM ins
    ), fevers AS (
      -- The temperature as sent (staged), not as numeric(4,1) stored it.
      ${INTO_FEVER_EVENTS}
      SELECT ${t.schoolId}, i.user_id, ${t.deviceId}::uuid, i.id, 'attendance', i.record_id, s.temperature, i.occurred_at
      FROM import_attendances s JOIN ins i ON i.record_id = s.record_id
      WHERE s.temperature >= ${t.feverThreshold}::numeric
      ORDER BY i.id
    )
    SELECT (SELECT count(*) FROM import_attendances)::int AS staged, n.accepted AS known, n.accepted, n.highest, (SELECT ok FROM fresh) AS fresh
    FROM (SELECT count(*)::int AS accepted, max(record_id)::text AS highest FROM ins) n
  `.execute(trx);
  const row = result.rows[0];
  return row.fresh ? asInsert(row) : null;
}

/**
 * Any batch: inserts the first row (lowest line) of every record id whose user belongs to the
 * school, skipping a record id the device already holds; fever events for the inserted rows
 * at or above the threshold.
 */
export async function insertStaged(trx: Trx, t: StageTarget): Promise<StagedInsert> {
  const result = await sql<CountsRow>`
    WITH known AS (
      SELECT s.* FROM import_attendances s JOIN users u ON u.id = s.user_id AND u.school_id = ${t.schoolId}
    ), first AS (
      SELECT DISTINCT ON (record_id) * FROM known ORDER BY record_id, line
    ), keys AS (
      -- The record ids the device does not hold yet: attendance_keys is the dedup key (the
      -- partitioned table cannot be), written first in the same statement with the row's id to be.
      INSERT INTO attendance_keys (school_id, device_id, record_id, attendance_id, occurred_at)
      SELECT ${t.schoolId}, ${t.deviceId}::uuid, record_id, nextval('attendances_id_seq'), ${fromEpochMs('first.occurred_ms')} FROM first ORDER BY line
      ON CONFLICT DO NOTHING
      RETURNING record_id, attendance_id
    ), ins AS (
      INSERT INTO attendances (id, school_id, user_id, device_id, record_id, type, occurred_at, temperature, photo, session_id, clock_suspect) OVERRIDING SYSTEM VALUE
      SELECT keys.attendance_id, ${t.schoolId}, user_id, ${t.deviceId}::uuid, first.record_id, type, ${fromEpochMs('first.occurred_ms')}, temperature, photo, ${t.sessionId}::uuid, ${t.clockSuspect}
      FROM first JOIN keys ON keys.record_id = first.record_id ORDER BY line
      RETURNING id, user_id, record_id, occurred_at
    ), fevers AS (
      ${INTO_FEVER_EVENTS}
      SELECT ${t.schoolId}, i.user_id, ${t.deviceId}::uuid, i.id, 'attendance', i.record_id, f.temperature, i.occurred_at
      FROM ins i JOIN first f ON f.record_id = i.record_id
      WHERE f.temperature >= ${t.feverThreshold}::numeric
      ORDER BY i.id
    )
    SELECT (SELECT count(*) FROM import_attendances)::int AS staged, (SELECT count(*) FROM known)::int AS known,
      (SELECT count(*) FROM ins)::int AS accepted, (SELECT max(record_id) FROM known)::text AS highest
  `.execute(trx);
  return asInsert(result.rows[0]);
}

export interface StoredRejections {
  duplicates: number;
  /** Rejections stored, per code. */
  counts: Record<string, number>;
  /** The first `first` of them (one more when there are more), in their stored order. */
  first: Array<{ line: number; recordId: number | null; code: string; detail: string | null }>;
  /** With `rest`, the users of the school the staged rows name (null without). */
  knownUsers: number[] | null;
}

/**
 * Stores every rejection of the file in one statement, in the order the CSV-log kit reports
 * them, chunk of `chunkRows` valid rows by chunk: the rows refused as read (set aside by
 * `stageReadRejections`, and `read`, those still in hand), then with `rest` the staged rows
 * not inserted: a user outside the school is `unknown_user`; a row whose record id the device
 * holds is a duplicate (same content, counted) or a `record_conflict` — the chunk's unknown
 * users, then repeats of a record id within the chunk, then the chunk's first rows of a record
 * id held before, each in line order. With `rest`, the unknown users' rows are also held
 * (held_punches, once per record id) for staff to import once mapped. Answers the counts and the first `first` rejections, not
 * the rows: a batch of millions of refused rows costs the worker nothing more (issue #33).
 */
export async function storeStagedRejections(trx: Trx, t: StageTarget,
  opts: { file: string; chunkRows: number; read: readonly ReadRejection[]; rest: boolean; first: number }): Promise<StoredRejections> {
  const rest = opts.rest ? sql`
    staged AS (
      SELECT s.*, s.ord / ${opts.chunkRows}::int AS chunk, u.id IS NOT NULL AS known,
        min(s.line) FILTER (WHERE u.id IS NOT NULL) OVER (PARTITION BY s.record_id) AS first_line,
        min(s.line) FILTER (WHERE u.id IS NOT NULL) OVER (PARTITION BY s.record_id, s.ord / ${opts.chunkRows}::int) AS chunk_first_line
      FROM import_attendances s LEFT JOIN users u ON u.id = s.user_id AND u.school_id = ${t.schoolId}
    ), held AS (
      SELECT k.chunk, k.line, k.record_id, k.user_id, k.line = k.chunk_first_line AS is_first,
        -- A key whose row went with its month (retention) is held all the same: a duplicate.
        a.id IS NULL OR (a.user_id = k.user_id AND a.type = k.type AND a.occurred_at = ${fromEpochMs('k.occurred_ms')}) AS same
      FROM staged k JOIN attendance_keys ak ON ak.school_id = ${t.schoolId} AND ak.device_id = ${t.deviceId}::uuid AND ak.record_id = k.record_id
        -- By the key's row id and time (any school's: a device moved keeps its keys, see the migration 20261208_200000).
        LEFT JOIN attendances a ON a.id = ak.attendance_id AND a.occurred_at = ak.occurred_at
      -- Not the row inserted now: the first of its record id in the file (this session's row).
      WHERE k.known AND NOT (k.line = k.first_line AND coalesce(a.session_id = ${t.sessionId}::uuid, false))
    ), kept AS (
      -- Rows naming no user of the school are held too (docs/protocol/v4.md §4.5 "held rows"), once per record id.
      INSERT INTO held_punches (source, school_id, device_id, session_id, record_id, pin, occurred_at, type, temperature, photo)
      SELECT DISTINCT ON (record_id) 'v4', ${t.schoolId}, ${t.deviceId}::uuid, ${t.sessionId}::uuid, record_id, user_id::text, ${fromEpochMs('occurred_ms')}, type, temperature, photo
      FROM staged WHERE NOT known ORDER BY record_id, line
      ON CONFLICT DO NOTHING
    ),` : sql``;
  const restRows = opts.rest ? sql`
      UNION ALL
      -- The details in the words of channels/kit/csv-log.ts (unknownUserDetail, recordConflictDetail).
      SELECT 'unknown_user', chunk, line, record_id, 0, 'user_id ' || user_id || ' is not a user of this school' FROM staged WHERE NOT known
      UNION ALL
      SELECT 'record_conflict', chunk, line, record_id, CASE WHEN is_first THEN 2 ELSE 1 END,
        'record_id ' || record_id || ' is already held for this device with other content' FROM held WHERE NOT same` : sql``;
  const result = await sql<{ duplicates: number; counts: Record<string, number> | null; first: Array<{ line: number; record_id: string | null; code: string; detail: string | null }> | null; known_users: string[] | null }>`
    WITH ${rest} rejected AS (
      SELECT code, chunk, line, record_id, -1 AS phase, detail FROM import_rejections
      UNION ALL
      SELECT m.code, m.chunk, m.line, m.record_id, -1, m.detail FROM ${readRejectionArrays(opts.read)} AS m(chunk, line, record_id, code, detail)
      ${restRows}
    ), ins AS (
      INSERT INTO rejections (session_id, school_id, file, line, record_id, code, detail)
      SELECT ${t.sessionId}::uuid, ${t.schoolId}, ${opts.file}, line, record_id::text, code, detail FROM rejected ORDER BY chunk, phase, line
      RETURNING id, line, record_id, code, detail
    )
    SELECT ${opts.rest ? sql`(SELECT count(*) FROM held WHERE same)::int` : sql`0`} AS duplicates,
      (SELECT json_object_agg(code, n) FROM (SELECT code, count(*)::int AS n FROM ins GROUP BY code) c) AS counts,
      (SELECT json_agg(f ORDER BY f.id) FROM (SELECT id, line, record_id, code, detail FROM ins ORDER BY id LIMIT ${opts.first + 1}::int) f) AS first,
      ${opts.rest ? sql`(SELECT array_agg(DISTINCT user_id)::text[] FROM staged WHERE known)` : sql`NULL::text[]`} AS known_users
  `.execute(trx);
  const row = result.rows[0];
  return {
    duplicates: row.duplicates,
    counts: row.counts ?? {},
    first: (row.first ?? []).map((r) => ({ line: r.line, recordId: r.record_id === null ? null : Number(r.record_id), code: r.code, detail: r.detail })),
    knownUsers: opts.rest ? (row.known_users ?? []).map(Number) : null,
  };
}
