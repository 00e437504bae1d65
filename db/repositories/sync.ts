// The per-channel status flag and sync sessions (docs/protocol/v4.md §2). Every transition is one
// conditional statement, so two writers can never both win.
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { ChannelName } from '../../shared/protocol/channels.js';
import { SYNC_STATUS, type SyncStatus } from '../../shared/protocol/codes.js';
import type { Db, DbOrTrx, Trx } from '../database.js';
import { noteSeen, noteSeenSql } from './devices.js';
import { hasPendingFlagsSql, pendingFlagsQuery } from './flags.js';
import type { SessionFileError, SessionOutcome, SessionStats, SyncSession } from '../schema/index.js';

export interface ChannelState {
  status: SyncStatus;
  session_id: string | null;
  changed_at: Date;
  /** SHA-256 of the current session's archive, for the same-bytes retry. */
  archive_sha256: string | null;
}

export async function readState(db: DbOrTrx, schoolId: number, deviceId: string, channel: ChannelName): Promise<ChannelState | undefined> {
  return db
    .selectFrom('sync_states as st')
    .leftJoin('sync_sessions as se', (join) => join.onRef('se.school_id', '=', 'st.school_id').onRef('se.id', '=', 'st.session_id'))
    .select(['st.status', 'st.session_id', 'st.changed_at', 'se.archive_sha256'])
    .where('st.school_id', '=', schoolId)
    .where('st.device_id', '=', deviceId)
    .where('st.channel', '=', channel)
    .executeTakeFirst();
}

export interface PolledState {
  /** The device is disabled (its token no longer reaches anything). */
  disabled: boolean;
  status: SyncStatus | null;
  session_id: string | null;
  changed_at: Date | null;
}

/**
 * The status call in one statement, since every waiting device polls it: notes the device as
 * seen (at most every 10 s), whether it is disabled, and its state on `channel` (nulls when it
 * never synced there). Undefined when the device no longer exists.
 */
export async function pollState(db: Db, schoolId: number, deviceId: string, channel: ChannelName): Promise<PolledState | undefined> {
  const row = await db
    .with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .selectFrom('devices as d')
    .leftJoin('sync_states as st', (join) => join.onRef('st.school_id', '=', 'd.school_id').onRef('st.device_id', '=', 'd.id').on('st.channel', '=', channel))
    .select(['d.disabled_at', 'st.status', 'st.session_id', 'st.changed_at'])
    .where('d.school_id', '=', schoolId)
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
  return row && { disabled: row.disabled_at !== null, status: row.status, session_id: row.session_id, changed_at: row.changed_at };
}

/** What the manifest call reads (see `readManifestStart`). */
export interface ManifestStart {
  disabled: boolean;
  /** Whether the device has pending flags: only then are they read (pendingFlags). */
  hasFlags: boolean;
  /** The high-water mark of each of `files` the server holds (absent: none yet). */
  marks: Record<string, number>;
}

/**
 * The manifest call's reads in one round trip instead of three: whether the device still exists
 * and is enabled (noting that it was seen), whether it has pending flags, and its high-water
 * marks of `files`. Undefined when the device does not exist.
 */
export async function readManifestStart(db: Db, schoolId: number, deviceId: string, files: readonly string[]): Promise<ManifestStart | undefined> {
  const row = await db
    .with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .selectFrom('devices as d')
    .select((eb) => [
      'd.disabled_at',
      eb.exists(pendingFlagsQuery(db, schoolId, deviceId).select('id')).as('has_flags'),
      sql<Record<string, number> | null>`(SELECT json_object_agg(h.file, h.record_id) FROM high_water_marks h
        WHERE h.school_id = d.school_id AND h.device_id = d.id AND h.file = ANY(${[...files]}::text[]))`.as('marks'),
    ])
    .where('d.school_id', '=', schoolId)
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
  return row && { disabled: row.disabled_at !== null, hasFlags: Boolean(row.has_flags), marks: row.marks ?? {} };
}

/** What accepting an upload decides on before its transaction (see `readUploadStart`). */
export interface UploadStart {
  disabled: boolean;
  /** Names of the device's pending flags: they decide the required files (§6 REPORT_SETTINGS). */
  flags: { name: string }[];
  /** The channel's state, or null before the device's first upload on it. */
  state: Omit<ChannelState, 'changed_at'> | null;
}

/**
 * Everything accepting an upload reads, in one round trip: whether the device still exists and
 * is enabled (noting that it was seen, as every device call does), its pending flags, and the
 * channel's status with the current session's archive hash (for the same-bytes retry).
 * Undefined when the device does not exist.
 */
export async function readUploadStart(db: Db, schoolId: number, deviceId: string, channel: ChannelName): Promise<UploadStart | undefined> {
  const row = await db
    .with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .selectFrom('devices as d')
    .leftJoin('sync_states as st', (join) => join.onRef('st.school_id', '=', 'd.school_id').onRef('st.device_id', '=', 'd.id').on('st.channel', '=', channel))
    .leftJoin('sync_sessions as se', (join) => join.onRef('se.school_id', '=', 'st.school_id').onRef('se.id', '=', 'st.session_id'))
    .select([
      'd.disabled_at', 'st.status', 'st.session_id', 'se.archive_sha256',
      jsonArrayFrom(pendingFlagsQuery(db, schoolId, deviceId).select('name').orderBy('id')).as('flags'),
    ])
    .where('d.school_id', '=', schoolId)
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    disabled: row.disabled_at !== null,
    flags: row.flags,
    state: row.status === null ? null : { status: row.status, session_id: row.session_id, archive_sha256: row.archive_sha256 },
  };
}

type NewSession = { id: string; school_id: number; device_id: string; channel: ChannelName; archive: Buffer; archive_sha256: string };

/**
 * Stores an upload's session and flips the channel 0 → 1 to it, in one statement and so in one
 * transaction of its own: the flip is an upsert that only updates a row in status 0, so two
 * uploads at once can never both win (the loser waits for the winner's row lock, then sees
 * status 1), and the session row is inserted only from the flip's result. The committed pending
 * session is the import's queue entry (worker/import/session-queue.ts). False when this upload
 * lost: nothing was written.
 */
export function storeSessionAndStart(db: DbOrTrx, session: NewSession): Promise<boolean> {
  return storeSession(db, session, false);
}

/**
 * The common upload in one statement (issue #31: the second round trip was a fifth of the api's
 * time per upload): as `storeSessionAndStart`, and only for a device that exists, is enabled and
 * has no pending flag (a flag may make a file required, which the caller checked without), and
 * noting that the device was seen. False when any of that does not hold, or the upload lost: then
 * nothing was written but the note, and the caller reads what stood in the way (`readUploadStart`).
 */
export function storeSessionIfClear(db: Db, session: NewSession): Promise<boolean> {
  return storeSession(db, session, true);
}

async function storeSession(db: DbOrTrx, session: NewSession, ifClear: boolean): Promise<boolean> {
  const { id, school_id: schoolId, device_id: deviceId, channel, archive } = session;
  // Written as SQL text: kysely's builder took 70 µs to compile this statement, a tenth of the
  // api's time per upload (issue #31); the text, 2 µs.
  const state = ifClear
    ? sql`SELECT d.school_id, d.id, ${channel}::text, ${SYNC_STATUS.processing}::int, ${id}::uuid, now() FROM devices d
        WHERE d.school_id = ${schoolId} AND d.id = ${deviceId}::uuid AND d.disabled_at IS NULL AND NOT ${hasPendingFlagsSql(sql`d.id`, sql`d.school_id`)}`
    : sql`VALUES (${schoolId}::bigint, ${deviceId}::uuid, ${channel}::text, ${SYNC_STATUS.processing}::int, ${id}::uuid, now())`;
  // The state names the session before the session row exists: the foreign key is checked at
  // the end of the statement, when both are there. With `ifClear` the device is noted seen here
  // (every device call notes it); otherwise the read before did.
  const result = await sql<{ id: string }>`
    WITH ${ifClear ? sql`seen AS (${noteSeenSql(schoolId, deviceId)}),` : sql``}
    flip AS (
      INSERT INTO sync_states (school_id, device_id, channel, status, session_id, changed_at) ${state}
      ON CONFLICT (device_id, channel, school_id) DO UPDATE SET status = ${SYNC_STATUS.processing}, session_id = ${id}::uuid, changed_at = now()
        WHERE sync_states.status = ${SYNC_STATUS.idle}
      RETURNING school_id, device_id
    )
    INSERT INTO sync_sessions (id, school_id, device_id, channel, archive, archive_sha256, archive_bytes)
    SELECT ${id}::uuid, school_id, device_id, ${channel}::text, ${archive}::bytea, ${session.archive_sha256}::text, ${archive.length}::int FROM flip
    RETURNING id
  `.execute(db);
  return result.rows.length > 0;
}

/**
 * How the status flag moves (0 → 1 is `storeSessionAndStart`): a conditional UPDATE from
 * `from` to `to`, true when this caller won. The row must already hold `sessionId`, so a
 * session closed meanwhile (RESET_SESSION) cannot move.
 */
async function transition(trx: Trx, schoolId: number, deviceId: string, channel: string, from: SyncStatus, to: SyncStatus, sessionId: string): Promise<boolean> {
  const row = await trx
    .updateTable('sync_states')
    .set({ status: to, changed_at: sql`now()` })
    .where('school_id', '=', schoolId)
    .where('device_id', '=', deviceId)
    .where('channel', '=', channel)
    .where('status', '=', from)
    .where('session_id', '=', sessionId)
    .returning('device_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** 1 → 2 for this very session: false when the session is no longer the one processing (reset). */
export function markReady(trx: Trx, schoolId: number, deviceId: string, channel: string, sessionId: string): Promise<boolean> {
  return transition(trx, schoolId, deviceId, channel, SYNC_STATUS.processing, SYNC_STATUS.ready, sessionId);
}

/**
 * The acknowledgement in one statement (so one transaction of its own): whether the device still
 * exists and is enabled (noting that it was seen), and, only for an enabled device, the
 * conditional 2 → 0 of this very session with its acked_at, and the flags that session's package
 * delivered marked applied (§6: applied when the package carrying them is acknowledged), each
 * with its `applied` event. Undefined when the device does not exist.
 */
export async function acknowledge(db: DbOrTrx, schoolId: number, deviceId: string, channel: ChannelName, sessionId: string | null): Promise<{ disabled: boolean; acked: boolean } | undefined> {
  const row = await db
    .with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .with('won', (qb) => qb.updateTable('sync_states')
      .set({ status: SYNC_STATUS.idle, changed_at: sql`now()` })
      .where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('channel', '=', channel)
      .where('status', '=', SYNC_STATUS.ready).where('session_id', '=', sessionId)
      .where((eb) => eb.exists(eb.selectFrom('devices').select('id').where('school_id', '=', schoolId).where('id', '=', deviceId).where('disabled_at', 'is', null)))
      .returning('session_id'))
    .with('acked', (qb) => qb.updateTable('sync_sessions')
      .set({ acked_at: sql`now()` })
      .where('school_id', '=', schoolId)
      .where('id', 'in', (eb) => eb.selectFrom('won').select('won.session_id'))
      .returning('id'))
    .with('applied', (qb) => qb.updateTable('device_flags')
      .set({ applied_at: sql`now()` })
      .where('school_id', '=', schoolId)
      .where('delivered_in', 'in', (eb) => eb.selectFrom('won').select('won.session_id'))
      .where('applied_at', 'is', null).where('cancelled_at', 'is', null)
      .returning(['id', 'school_id', 'device_id', 'delivered_in']))
    .with('applied_events', (qb) => qb.insertInto('flag_events')
      .columns(['school_id', 'flag_id', 'device_id', 'action', 'session_id'])
      .expression((eb) => eb.selectFrom('applied').select(['applied.school_id', 'applied.id', 'applied.device_id', sql<string>`'applied'`.as('action'), 'applied.delivered_in'])))
    .selectFrom('devices as d')
    .select((eb) => ['d.disabled_at', eb.exists(eb.selectFrom('acked').select('acked.id')).as('acked')])
    .where('d.school_id', '=', schoolId)
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
  return row && { disabled: row.disabled_at !== null, acked: Boolean(row.acked) };
}

/** Any status → 0, whatever the session (RESET_SESSION). Returns the session that was closed. */
export async function resetState(trx: Trx, schoolId: number, deviceId: string, channel: string): Promise<string | null> {
  const row = await trx
    .updateTable('sync_states')
    .set({ status: SYNC_STATUS.idle, changed_at: sql`now()` })
    .where('school_id', '=', schoolId)
    .where('device_id', '=', deviceId)
    .where('channel', '=', channel)
    .where('status', '<>', SYNC_STATUS.idle)
    .returning('session_id')
    .executeTakeFirst();
  if (row?.session_id) {
    await trx.updateTable('sync_sessions').set({ outcome: sql`coalesce(outcome, 'reset')`, processed_at: sql`coalesce(processed_at, now())` })
      .where('school_id', '=', schoolId).where('id', '=', row.session_id).execute();
  }
  return row?.session_id ?? null;
}

export async function findSession(db: DbOrTrx, id: string): Promise<SyncSession | undefined> {
  return db.selectFrom('sync_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** What an acknowledged package offered (see ProcessedSession.offered). */
export async function offeredBySession(db: DbOrTrx, schoolId: number, sessionId: string): Promise<Record<string, number[]> | null> {
  const row = await db.selectFrom('sync_sessions').select('offered').where('school_id', '=', schoolId).where('id', '=', sessionId).executeTakeFirst();
  return row?.offered ?? null;
}

export async function findSessionOfDevice(db: DbOrTrx, schoolId: number, deviceId: string, channel: ChannelName, id: string) {
  return db.selectFrom('sync_sessions').select(['id', 'acked_at', 'processed_at'])
    .where('school_id', '=', schoolId).where('id', '=', id).where('device_id', '=', deviceId).where('channel', '=', channel).executeTakeFirst();
}

/**
 * The instructions call in one statement: whether the device is still enabled (noting that it
 * was seen), and the channel's package when there is one. Undefined when the device is gone.
 */
export async function readDeviceAndPackage(db: DbOrTrx, schoolId: number, deviceId: string, channel: ChannelName) {
  return db
    .with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .selectFrom('devices as d')
    .leftJoin('sync_states as st', (join) => join.onRef('st.school_id', '=', 'd.school_id').onRef('st.device_id', '=', 'd.id').on('st.channel', '=', channel))
    .leftJoin('sync_sessions as se', (join) => join.onRef('se.school_id', '=', 'st.school_id').onRef('se.id', '=', 'st.session_id'))
    .select(['d.disabled_at', 'st.status', 'se.id', 'se.package', 'se.package_sha256'])
    .where('d.school_id', '=', schoolId)
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
}

/** Batches accepted but not yet processed, counted up to `limit + 1` (enough to compare). */
export async function pendingImports(db: DbOrTrx, limit: number): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM sync_sessions WHERE processed_at IS NULL LIMIT ${limit + 1}) AS pending
  `.execute(db);
  return row.rows[0].n;
}

export interface ProcessedSession {
  outcome: SessionOutcome;
  stats: SessionStats | null;
  /** Null for a PUSH session: its `OK` was the answer, there is no package. */
  package: Buffer | null;
  package_sha256: string | null;
  device_clock?: Date | null;
  clock_skew_seconds?: number | null;
  failure?: string | null;
  /** Items the package offers that count only once acknowledged (channel-specific, e.g. message ids). */
  offered?: Record<string, number[]> | null;
  file_errors?: SessionFileError[] | null;
}

/** The columns a processed session gets (finishSession, and the import's finishing statement). */
export function processedSessionSet(result: ProcessedSession) {
  return {
    outcome: result.outcome,
    stats: result.stats === null ? null : JSON.stringify(result.stats),
    package: result.package,
    package_sha256: result.package_sha256,
    device_clock: result.device_clock ?? null,
    clock_skew_seconds: result.clock_skew_seconds ?? null,
    failure: result.failure ?? null,
    offered: result.offered ? JSON.stringify(result.offered) : null,
    file_errors: result.file_errors?.length ? JSON.stringify(result.file_errors) : null,
    processed_at: sql<Date>`now()`,
  };
}

export async function finishSession(trx: Trx, schoolId: number, sessionId: string, result: ProcessedSession): Promise<void> {
  await trx.updateTable('sync_sessions').set(processedSessionSet(result)).where('school_id', '=', schoolId).where('id', '=', sessionId).execute();
}
