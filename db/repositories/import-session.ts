// Reads and writes around one batch import that are not rows of the batch itself.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { DeviceReport } from '../../shared/xml/device-xml.js';
import { PUSH_SESSION_CHANNEL } from '../../shared/protocol/push.js';
import type { School } from '../schema/index.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import { processedSessionSet, type ProcessedSession } from './sync.js';
import { hasPendingFlagsSql } from './flags.js';

/** An archive up to this many bytes comes whole with its claim; a larger one is read in pieces. */
const CLAIMED_ARCHIVE = 1024 * 1024;
/**
 * Bytes of a larger archive read per statement. Each piece passes through the socket's buffers,
 * its hex text and its bytes; in 1 MiB pieces a 5 MiB archive left the worker ~6 MiB higher for
 * the rest of a 1,000,000-row import than in 64 KiB pieces (bench `memory`, issue #31), for 75
 * more statements of a few microseconds each.
 */
const ARCHIVE_PIECE = 64 * 1024;

/** Locks the session row (giving a session up: a concurrent import waits here, or the give-up waits for it and then sees it processed). */
export async function lockSession(trx: Trx, sessionId: string) {
  return trx.selectFrom('sync_sessions')
    .select(['id', 'school_id', 'device_id', 'channel', 'archive', 'received_at', 'processed_at'])
    .where('id', '=', sessionId)
    .forUpdate()
    .executeTakeFirst();
}

type ClaimRow = {
  id: string; device_id: string; channel: string; archive_length: number | null; received_at: Date; processed_at: Date | null; attempts: number; more: boolean; has_flags: boolean;
  school_id: number; roster_version: number | null; small_archive: Buffer | null;
  s_name: string; s_timezone: string; s_school_days: number[]; s_day_end: string; s_fever_threshold: number; s_created_at: Date; s_updated_at: Date;
  s_attendance_threshold: number; s_late_after: string | null; s_records_from: string | null;
};

/** What an import reads of its session, device and school with the row lock (the list both statements below return). */
const CLAIMED_COLUMNS = sql`se.id, se.device_id, se.channel, octet_length(se.archive) AS archive_length, se.received_at, se.processed_at, se.attempts, ${hasPendingFlagsSql(sql`se.device_id`)} AS has_flags,
               d.school_id, d.roster_version,
               CASE WHEN octet_length(se.archive) <= ${CLAIMED_ARCHIVE}::int THEN se.archive END AS small_archive,
               s.name AS s_name, s.timezone AS s_timezone, s.school_days AS s_school_days, s.day_end AS s_day_end,
               s.fever_threshold AS s_fever_threshold, s.created_at AS s_created_at, s.updated_at AS s_updated_at,
               s.attendance_threshold AS s_attendance_threshold, s.late_after::text AS s_late_after, s.records_from::text AS s_records_from`;

/** A claimed row as the import takes it: the session (its archive read whole), its device and school. */
async function claimedSession(trx: Trx, row: ClaimRow | undefined) {
  if (!row) return undefined;
  const { school_id, roster_version, archive_length, small_archive, attempts, more: moreDue, has_flags, s_name, s_timezone, s_school_days, s_day_end, s_fever_threshold, s_created_at, s_updated_at, s_attendance_threshold, s_late_after, s_records_from, ...rest } = row;
  // A scheduled sync's archive (a few KiB) comes with the claim; only a large one is read in pieces.
  const archive = archive_length === null ? null : small_archive ?? await readArchive(trx, school_id, rest.id, archive_length);
  const session = { ...rest, archive };
  const school: School = {
    id: school_id, name: s_name, timezone: s_timezone, school_days: s_school_days, day_end: s_day_end,
    fever_threshold: s_fever_threshold, created_at: s_created_at, updated_at: s_updated_at,
    attendance_threshold: s_attendance_threshold, late_after: s_late_after, records_from: s_records_from,
  };
  return { session, attempts, moreDue, device: { id: session.device_id, school_id, roster_version, has_pending_flags: has_flags }, school };
}

/** A v4 session the import queue claimed (`claimNextImport`). */
export interface QueueClaim {
  id: string;
  /** This attempt's number, counted and committed by the claim (1 for the first). */
  attempts: number;
  /** Another pending session was due when this one was claimed. */
  moreDue: boolean;
}

/** What one claim of the import queue took: v4 sessions imported in one transaction, or PUSH sessions imported together. */
export type ImportClaim =
  | { push: false; sessions: QueueClaim[]; moreDue: boolean }
  | { push: true; sessions: Array<{ id: string; attempts: number }>; moreDue: boolean };

/** How many sessions, and how many bytes of archives, one claim takes at most (at least one session). */
export interface ClaimLimit {
  limit: number;
  maxBytes: number;
  /** Only sessions whose archive is at most this size are claimed with others (default: any size). */
  eachMaxBytes?: number;
}

/**
 * The import queue's claim (worker/import/session-queue.ts), a statement committed on its own
 * before any of the import's work: the oldest due pending session that no other import holds
 * (FOR UPDATE SKIP LOCKED) and not in `skip`, its attempt counted, and its next try put off by
 * the backoff of this attempt (`baseDelaySeconds` doubled per earlier attempt, at most
 * `maxDelaySeconds`). So an attempt whose process dies (out of memory, killed) has still
 * counted, and the next one waits as after a failure; an attempt that fails records its own
 * delay (`recordFailedAttempt`); an import holds the row lock from its first statement
 * (`lockClaimedSession`, `lockClaimedPushSessions`), which the other claims skip, and the delay
 * covers the moment between.
 * A session never tried before takes with it the other untried due sessions of its kind,
 * oldest first, up to the kind's limit (`v4Group`, `pushBatch`: sessions and bytes of archives,
 * at least one), each with its attempt counted: one transaction imports them (a v4 group in
 * worker/import/import-session.ts, a PUSH batch set-based in channels/push/import-attlog.ts).
 * A session tried before (a failure, or a worker that died during a group) is claimed alone,
 * so a session that fails or kills its worker every time spends its own attempts, not its
 * neighbours'.
 */
export async function claimNextImport(db: DbOrTrx, opts: {
  skip?: ReadonlySet<string>; baseDelaySeconds: number; maxDelaySeconds: number; pushBatch: ClaimLimit;
  /** v4 sessions claimed together (default: one at a time). */
  v4Group?: ClaimLimit;
  /** False: v4 sessions only (this worker imports a PUSH batch already). */
  takePush?: boolean;
  /** A PUSH session is claimed once it has waited this long (ms), so that a batch gathers those arriving meanwhile. */
  pushGatherMs?: number;
}): Promise<ImportClaim | undefined> {
  const skip = opts.skip ?? new Set<string>();
  const v4Group = opts.v4Group ?? { limit: 1, maxBytes: 0 };
  const channels = opts.takePush === false ? sql`AND h.channel <> ${PUSH_SESSION_CHANNEL}` : pushGathered('h', opts.pushGatherMs ?? 0);
  // A large batch is imported alone: grouped, it would hold its neighbours' commits (and a lane
  // would take several while the others idle); alone, its rows' fixed costs are spread anyway.
  const groupable = (t: string) => (v4Group.eachMaxBytes === undefined ? sql`true` : sql`coalesce(${sql.ref(`${t}.archive_bytes`)}, 0) <= ${v4Group.eachMaxBytes}::bigint`);
  const due = (t: string) => sql`${sql.ref(`${t}.processed_at`)} IS NULL AND (${sql.ref(`${t}.retry_at`)} IS NULL OR ${sql.ref(`${t}.retry_at`)} <= now())
                 ${skip.size > 0 ? sql`AND ${sql.ref(`${t}.id`)} <> ALL(${[...skip]}::uuid[])` : sql``}`;
  const result = await sql<{ id: string; channel: string; attempts: number; more: boolean }>`
    WITH head AS (
      SELECT h.id, h.channel, h.attempts, h.archive_bytes FROM sync_sessions AS h WHERE ${due('h')} ${channels} ORDER BY h.received_at LIMIT 1 FOR UPDATE SKIP LOCKED
    ), push_batch AS (
      SELECT b.id, b.received_at, b.archive_bytes FROM sync_sessions AS b
       WHERE ${due('b')} AND b.channel = ${PUSH_SESSION_CHANNEL} AND b.attempts = 0
         AND EXISTS (SELECT 1 FROM head WHERE head.channel = ${PUSH_SESSION_CHANNEL} AND head.attempts = 0)
       ORDER BY b.received_at LIMIT ${opts.pushBatch.limit} FOR UPDATE SKIP LOCKED
    ), v4_group AS (
      SELECT b.id, b.received_at, b.archive_bytes FROM sync_sessions AS b
       WHERE ${due('b')} AND b.channel <> ${PUSH_SESSION_CHANNEL} AND b.attempts = 0 AND ${groupable('b')}
         AND EXISTS (SELECT 1 FROM head WHERE head.channel <> ${PUSH_SESSION_CHANNEL} AND head.attempts = 0 AND ${groupable('head')})
       ORDER BY b.received_at LIMIT ${v4Group.limit} FOR UPDATE SKIP LOCKED
    ), batch AS (
      SELECT * FROM push_batch UNION ALL SELECT * FROM v4_group
    ), sized AS (
      SELECT id, row_number() OVER w AS n, sum(coalesce(archive_bytes, 0)) OVER w AS upto FROM batch WINDOW w AS (ORDER BY received_at, id)
    ), chosen AS (
      SELECT id FROM head UNION SELECT id FROM sized
       WHERE n = 1 OR upto <= CASE WHEN EXISTS (SELECT 1 FROM head WHERE head.channel = ${PUSH_SESSION_CHANNEL}) THEN ${opts.pushBatch.maxBytes}::bigint ELSE ${v4Group.maxBytes}::bigint END
    ), more AS (
      -- Whether another session is due (perhaps being imported elsewhere): the queue wakes another lane only then.
      -- In the claim's own shape (the unprocessed index, oldest first): a bare EXISTS may be planned as a scan of the whole table.
      SELECT EXISTS (SELECT 1 FROM sync_sessions AS m WHERE ${due('m')} AND m.id NOT IN (SELECT id FROM chosen) ORDER BY m.received_at LIMIT 1) AS more
    )
    UPDATE sync_sessions AS se SET attempts = se.attempts + 1,
           retry_at = now() + make_interval(secs => least(${opts.maxDelaySeconds}::float8, ${opts.baseDelaySeconds}::float8 * power(2, se.attempts)))
      FROM chosen
     WHERE se.id = chosen.id AND se.processed_at IS NULL
     RETURNING se.id, se.channel, se.attempts, (SELECT more FROM more) AS more`.execute(db);
  const rows = result.rows;
  if (rows.length === 0) return undefined;
  const moreDue = rows[0].more;
  if (rows[0].channel !== PUSH_SESSION_CHANNEL) return { push: false, sessions: rows.map((r) => ({ id: r.id, attempts: r.attempts, moreDue })), moreDue };
  return { push: true, sessions: rows.map((r) => ({ id: r.id, attempts: r.attempts })), moreDue };
}

/**
 * The first statement of the import of sessions the queue claimed: the rows locked in id order
 * (a concurrent import of one waits here, then finds it processed), each with its device and
 * school, as the claim names them. A session processed (or reset) meanwhile is not among them.
 */
export async function lockClaimedSessions(trx: Trx, sessionIds: readonly string[]) {
  // By the key, one probe per id: with `se.id = ANY(…) AND processed_at IS NULL` PostgreSQL may
  // read the whole unprocessed index instead (the backlog at a fleet's peak: 600 blocks a group).
  const result = await sql<ClaimRow>`SELECT ${CLAIMED_COLUMNS}, false AS more
      FROM unnest(${sessionIds}::uuid[]) AS c(id) JOIN sync_sessions AS se ON se.id = c.id
      JOIN devices AS d ON d.id = se.device_id JOIN schools AS s ON s.id = d.school_id
     WHERE se.processed_at IS NULL
     ORDER BY se.id
       FOR UPDATE OF se`.execute(trx);
  const sessions = [];
  for (const row of result.rows) sessions.push((await claimedSession(trx, row))!);
  return sessions;
}

/**
 * A session's archive read in pieces into one buffer: bytea travels as hex text, and read whole
 * a 5 MiB archive passed through ~40 MiB of socket buffers and text at once, which stayed in the
 * worker's RSS for the rest of a 1,000,000-row import (bench `memory`, issue #21).
 */
async function readArchive(trx: Trx, schoolId: number, sessionId: string, length: number): Promise<Buffer> {
  const archive = Buffer.allocUnsafe(length);
  for (let at = 0; at < length; at += ARCHIVE_PIECE) {
    const piece = await sql<{ piece: Buffer }>`
      SELECT substring(archive FROM ${at + 1}::int FOR ${ARCHIVE_PIECE}::int) AS piece FROM sync_sessions WHERE school_id = ${schoolId} AND id = ${sessionId}
    `.execute(trx);
    piece.rows[0].piece.copy(archive, at);
  }
  return archive;
}

/** What the device said about itself; last_device_clock only moves forward (figures' complete-until). */
function deviceReportSet(report: DeviceReport | null, skewSeconds: number | null, succeeded: boolean) {
  return {
    ...(report && {
      firmware: report.firmware ?? undefined,
      reported_timezone: report.timezone ?? undefined,
      pending_records: report.pendingRecords ?? undefined,
      roster_version: report.rosterVersion ?? undefined,
      clock_skew_seconds: skewSeconds,
    }),
    ...(succeeded && {
      last_synced_at: sql<Date>`now()`,
      last_device_clock: report?.clock ? sql<Date>`greatest(last_device_clock, ${report.clock}::timestamptz)` : undefined,
    }),
    updated_at: sql<Date>`now()`,
  };
}

export async function recordDeviceReport(trx: Trx, schoolId: number, deviceId: string, report: DeviceReport | null, skewSeconds: number | null, succeeded: boolean): Promise<void> {
  await trx.updateTable('devices').set(deviceReportSet(report, skewSeconds, succeeded)).where('school_id', '=', schoolId).where('id', '=', deviceId).execute();
}

/**
 * The end of an import in one statement instead of three: the session stored as processed with
 * its package, the device's report (a successful sync), and the 1 → 2 flip of this very session.
 * False when the flip lost (a RESET_SESSION closed the session meanwhile): the rest still stands.
 */
export async function finishImport(trx: Trx, session: { id: string; schoolId: number; deviceId: string; channel: string }, result: ProcessedSession,
  report: { report: DeviceReport | null; skewSeconds: number | null }): Promise<boolean> {
  const row = await trx
    .with('processed', (qb) => qb.updateTable('sync_sessions').set(processedSessionSet(result)).where('school_id', '=', session.schoolId).where('id', '=', session.id))
    .with('reported', (qb) => qb.updateTable('devices').set(deviceReportSet(report.report, report.skewSeconds, true))
      .where('school_id', '=', session.schoolId).where('id', '=', session.deviceId))
    .updateTable('sync_states')
    .set({ status: SYNC_STATUS.ready, changed_at: sql`now()` })
    .where('school_id', '=', session.schoolId)
    .where('device_id', '=', session.deviceId).where('channel', '=', session.channel)
    .where('status', '=', SYNC_STATUS.processing).where('session_id', '=', session.id)
    .returning('device_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function recordReportedSettings(trx: Trx, schoolId: number, deviceId: string, settings: Record<string, string>): Promise<void> {
  await trx.updateTable('devices').set({ reported_settings: JSON.stringify(settings) }).where('school_id', '=', schoolId).where('id', '=', deviceId).execute();
}

/**
 * A failed import attempt of a pending session (its transaction rolled back; the queue's claim
 * had already counted it): the session not claimed again for `delaySeconds`, and the error kept
 * in `failure` for whoever looks at the row (an import that commits clears it). Answers the
 * attempts so far; undefined when the session is no longer pending (processed or reset meanwhile).
 */
export async function recordFailedAttempt(db: DbOrTrx, sessionId: string, delaySeconds: number, error: string): Promise<number | undefined> {
  const row = await sql<{ attempts: number }>`
    UPDATE sync_sessions SET retry_at = now() + make_interval(secs => ${delaySeconds}::float8), failure = ${error.slice(0, 2000)}
    WHERE id = ${sessionId} AND processed_at IS NULL RETURNING attempts`.execute(db);
  return row.rows[0]?.attempts;
}

/** Whether a session (v4 or PUSH) waits for its import and is due (one probe of the unprocessed index, oldest first as the claim reads it). */
/** A PUSH session waits `gatherMs` before it is due (a v4 one is due at once). */
function pushGathered(table: string, gatherMs: number) {
  if (gatherMs <= 0) return sql``;
  return sql`AND (${sql.ref(`${table}.channel`)} <> ${PUSH_SESSION_CHANNEL} OR ${sql.ref(`${table}.received_at`)} <= now() - make_interval(secs => ${gatherMs / 1000}::float8))`;
}

export async function importsDue(db: DbOrTrx, opts: { push?: boolean; pushGatherMs?: number } = {}): Promise<boolean> {
  const row = await sql<{ found: boolean }>`
    SELECT EXISTS (SELECT 1 FROM sync_sessions AS s
                   WHERE processed_at IS NULL AND (retry_at IS NULL OR retry_at <= now())
                   ${opts.push === false ? sql`AND channel <> ${PUSH_SESSION_CHANNEL}` : pushGathered('s', opts.pushGatherMs ?? 0)}
                   ORDER BY received_at LIMIT 1) AS found`.execute(db);
  return row.rows[0]?.found ?? false;
}
