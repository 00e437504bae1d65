// The per-channel status flag and sync sessions (PROTOCOL.md §2). Every transition is one
// conditional UPDATE, so two writers can never both win.
import { sql } from 'kysely';
import type { ChannelName } from '../../channels/registry.js';
import { SYNC_STATUS, type SyncStatus } from '../../shared/protocol/codes.js';
import type { DbOrTrx, Trx } from '../database.js';
import type { SessionOutcome, SessionStats, SyncSession } from '../schema/index.js';

export interface ChannelState {
  status: SyncStatus;
  session_id: string | null;
  changed_at: Date;
  /** SHA-256 of the current session's archive, for the same-bytes retry. */
  archive_sha256: string | null;
}

export async function readState(db: DbOrTrx, deviceId: string, channel: ChannelName): Promise<ChannelState | undefined> {
  return db
    .selectFrom('sync_states as st')
    .leftJoin('sync_sessions as se', 'se.id', 'st.session_id')
    .select(['st.status', 'st.session_id', 'st.changed_at', 'se.archive_sha256'])
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
export async function pollState(db: DbOrTrx, deviceId: string, channel: ChannelName): Promise<PolledState | undefined> {
  const row = await sql<PolledState>`
    WITH seen AS (
      UPDATE devices SET last_seen_at = now()
      WHERE id = ${deviceId} AND (last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds')
    )
    SELECT d.disabled_at IS NOT NULL AS disabled, st.status, st.session_id, st.changed_at
    FROM devices d LEFT JOIN sync_states st ON st.device_id = d.id AND st.channel = ${channel}
    WHERE d.id = ${deviceId}
  `.execute(db);
  return row.rows[0];
}

export async function ensureState(db: DbOrTrx, deviceId: string, channel: ChannelName): Promise<void> {
  await db.insertInto('sync_states').values({ device_id: deviceId, channel }).onConflict((oc) => oc.doNothing()).execute();
}

export async function insertSession(trx: Trx, session: { device_id: string; channel: ChannelName; archive: Buffer; archive_sha256: string }): Promise<{ id: string; received_at: Date }> {
  return trx
    .insertInto('sync_sessions')
    .values({ ...session, archive_bytes: session.archive.length })
    .returning(['id', 'received_at'])
    .executeTakeFirstOrThrow();
}

/**
 * The one way the status flag moves: a conditional UPDATE from `from` to `to`, true when
 * this caller won. With `sessionId` and from 0 it installs that session; otherwise the
 * row must already hold it, so a session closed meanwhile (RESET_SESSION) cannot move.
 */
async function transition(trx: Trx, deviceId: string, channel: string, from: SyncStatus, to: SyncStatus, sessionId: string): Promise<boolean> {
  let q = trx
    .updateTable('sync_states')
    .set({ status: to, changed_at: sql`now()`, ...(from === SYNC_STATUS.idle && { session_id: sessionId }) })
    .where('device_id', '=', deviceId)
    .where('channel', '=', channel)
    .where('status', '=', from);
  if (from !== SYNC_STATUS.idle) q = q.where('session_id', '=', sessionId);
  return (await q.returning('device_id').executeTakeFirst()) !== undefined;
}

/** 0 → 1: true when this upload won the channel. */
export function startProcessing(trx: Trx, deviceId: string, channel: ChannelName, sessionId: string): Promise<boolean> {
  return transition(trx, deviceId, channel, SYNC_STATUS.idle, SYNC_STATUS.processing, sessionId);
}

/** 1 → 2 for this very session: false when the session is no longer the one processing (reset). */
export function markReady(trx: Trx, deviceId: string, channel: string, sessionId: string): Promise<boolean> {
  return transition(trx, deviceId, channel, SYNC_STATUS.processing, SYNC_STATUS.ready, sessionId);
}

/** 2 → 0 for this very session (the acknowledgement). */
export async function acknowledge(trx: Trx, deviceId: string, channel: ChannelName, sessionId: string): Promise<boolean> {
  const won = await transition(trx, deviceId, channel, SYNC_STATUS.ready, SYNC_STATUS.idle, sessionId);
  if (won) await trx.updateTable('sync_sessions').set({ acked_at: sql`now()` }).where('id', '=', sessionId).execute();
  return won;
}

/** Any status → 0, whatever the session (RESET_SESSION). Returns the session that was closed. */
export async function resetState(trx: Trx, deviceId: string, channel: string): Promise<string | null> {
  const row = await trx
    .updateTable('sync_states')
    .set({ status: SYNC_STATUS.idle, changed_at: sql`now()` })
    .where('device_id', '=', deviceId)
    .where('channel', '=', channel)
    .where('status', '<>', SYNC_STATUS.idle)
    .returning('session_id')
    .executeTakeFirst();
  if (row?.session_id) {
    await trx.updateTable('sync_sessions').set({ outcome: sql`coalesce(outcome, 'reset')`, processed_at: sql`coalesce(processed_at, now())` })
      .where('id', '=', row.session_id).execute();
  }
  return row?.session_id ?? null;
}

export async function findSession(db: DbOrTrx, id: string): Promise<SyncSession | undefined> {
  return db.selectFrom('sync_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** What an acknowledged package offered (see ProcessedSession.offered). */
export async function offeredBySession(db: DbOrTrx, sessionId: string): Promise<Record<string, number[]> | null> {
  const row = await db.selectFrom('sync_sessions').select('offered').where('id', '=', sessionId).executeTakeFirst();
  return row?.offered ?? null;
}

export async function findSessionOfDevice(db: DbOrTrx, deviceId: string, channel: ChannelName, id: string) {
  return db.selectFrom('sync_sessions').select(['id', 'acked_at', 'processed_at'])
    .where('id', '=', id).where('device_id', '=', deviceId).where('channel', '=', channel).executeTakeFirst();
}

export async function readPackage(db: DbOrTrx, deviceId: string, channel: ChannelName) {
  return db
    .selectFrom('sync_states as st')
    .innerJoin('sync_sessions as se', 'se.id', 'st.session_id')
    .select(['st.status', 'se.id', 'se.package', 'se.package_sha256'])
    .where('st.device_id', '=', deviceId)
    .where('st.channel', '=', channel)
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
  package: Buffer;
  package_sha256: string;
  device_clock?: Date | null;
  clock_skew_seconds?: number | null;
  failure?: string | null;
  /** Items the package offers that count only once acknowledged (channel-specific, e.g. message ids). */
  offered?: Record<string, number[]> | null;
}

export async function finishSession(trx: Trx, sessionId: string, result: ProcessedSession): Promise<void> {
  await trx.updateTable('sync_sessions').set({
    outcome: result.outcome,
    stats: result.stats === null ? null : JSON.stringify(result.stats),
    package: result.package,
    package_sha256: result.package_sha256,
    device_clock: result.device_clock ?? null,
    clock_skew_seconds: result.clock_skew_seconds ?? null,
    failure: result.failure ?? null,
    offered: result.offered ? JSON.stringify(result.offered) : null,
    processed_at: sql`now()`,
  }).where('id', '=', sessionId).execute();
}
