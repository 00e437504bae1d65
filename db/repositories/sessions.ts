// Sync sessions as staff see them: a device's history, one session with its rejections, its
// package; and the session locks RESET_SESSION takes before closing a channel.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { SessionFileError, SessionOutcome, SessionStats } from '../schema/index.js';

/** Where a session stands: still processed, package waiting, acknowledged, or closed without acknowledgement (reset). */
export type SessionState = 'processing' | 'ready' | 'acknowledged' | 'closed';

export interface SessionSummary {
  id: string;
  device_id: string;
  /** The school of its device now (whose staff see it). */
  school_id: number;
  /** The school it happened in (its rejections' school): the same unless a PUSH terminal moved since. */
  session_school_id: number;
  channel: string;
  state: SessionState;
  outcome: SessionOutcome | null;
  received_at: Date;
  processed_at: Date | null;
  acked_at: Date | null;
  archive_bytes: number;
  archive_sha256: string;
  archive_stored: boolean;
  package_sha256: string | null;
  device_clock: Date | null;
  clock_skew_seconds: number | null;
  attempts: number;
  stats: SessionStats | null;
  file_errors: SessionFileError[] | null;
  /** Who closed it with RESET_SESSION (the flag's 'applied' event names the session). */
  reset_by: { staff_id: number | null; staff_email: string | null } | null;
  rejection_count: number;
  /** received_at in microseconds: the paging key. */
  received_at_us: number;
}

function sessionsQuery(db: DbOrTrx) {
  return db.selectFrom('sync_sessions as se')
    .innerJoin('devices as d', 'd.id', 'se.device_id')
    .leftJoin('sync_states as st', (j) => j.onRef('st.device_id', '=', 'se.device_id').onRef('st.channel', '=', 'se.channel'))
    .select([
      'se.id', 'se.device_id', 'd.school_id', 'se.school_id as session_school_id', 'se.channel', 'se.outcome', 'se.received_at', 'se.processed_at', 'se.acked_at',
      'se.archive_bytes', 'se.archive_sha256', 'se.package_sha256', 'se.device_clock', 'se.clock_skew_seconds', 'se.attempts', 'se.stats', 'se.file_errors',
    ])
    .select((eb) => [
      sql<SessionState>`CASE
        WHEN se.acked_at IS NOT NULL THEN 'acknowledged'
        WHEN st.session_id = se.id AND st.status = 1 THEN 'processing'
        WHEN st.session_id = se.id AND st.status = 2 THEN 'ready'
        WHEN se.channel = 'push' AND se.processed_at IS NULL THEN 'processing'
        ELSE 'closed' END`.as('state'),
      sql<boolean>`se.archive IS NOT NULL`.as('archive_stored'),
      sql<SessionSummary['reset_by']>`CASE WHEN se.acked_at IS NULL THEN (
        SELECT jsonb_build_object('staff_id', e.staff_id, 'staff_email', s.email)
          FROM flag_events e LEFT JOIN staff s ON s.id = e.staff_id
         WHERE e.school_id = d.school_id AND e.device_id = se.device_id AND e.action = 'applied'
           AND e.details -> 'closed_sessions' @> jsonb_build_array(jsonb_build_object('session_id', se.id::text))
         ORDER BY e.at DESC LIMIT 1) END`.as('reset_by'),
      eb.selectFrom('rejections as r').select(sql<number>`count(*)::int`.as('n')).whereRef('r.school_id', '=', 'se.school_id').whereRef('r.session_id', '=', 'se.id').as('rejection_count'),
      sql<number>`(extract(epoch FROM se.received_at) * 1000000)::bigint`.as('received_at_us'),
    ]);
}

/** Newest first, keyset on (received_at, id). */
/** `schoolId`: the device's school. */
export async function listDeviceSessions(db: DbOrTrx, schoolId: number, deviceId: string, opts: { channel?: string; before: { received_at_us: number; id: string } | null; limit: number }): Promise<SessionSummary[]> {
  let q = sessionsQuery(db).where('d.school_id', '=', schoolId).where('se.device_id', '=', deviceId)
    .orderBy('se.received_at', 'desc').orderBy('se.id', 'desc').limit(opts.limit);
  if (opts.channel) q = q.where('se.channel', '=', opts.channel);
  if (opts.before) {
    const { received_at_us, id } = opts.before;
    q = q.where(sql<boolean>`(se.received_at, se.id) < (to_timestamp(0) + ${received_at_us}::bigint * interval '1 microsecond', ${id}::uuid)`);
  }
  return (await q.execute()) as SessionSummary[];
}

/** `schoolId`: the school of the session's device (SessionSummary.school_id). */
export async function findSessionSummary(db: DbOrTrx, schoolId: number, id: string): Promise<SessionSummary | undefined> {
  return (await sessionsQuery(db).where('d.school_id', '=', schoolId).where('se.id', '=', id).executeTakeFirst()) as SessionSummary | undefined;
}

/** By line order of the upload (id order). `schoolId`: the session's own (SessionSummary.session_school_id). */
export async function sessionRejections(db: DbOrTrx, schoolId: number, sessionId: string, opts: { afterId: number | null; limit: number }) {
  let q = db.selectFrom('rejections').select(['id', 'file', 'line', 'record_id', 'code', 'detail'])
    .where('school_id', '=', schoolId).where('session_id', '=', sessionId).orderBy('id').limit(opts.limit);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

/** `schoolId`: the school of the session's device. */
export async function sessionPackage(db: DbOrTrx, schoolId: number, id: string) {
  return db.selectFrom('sync_sessions as se').innerJoin('devices as d', 'd.id', 'se.device_id')
    .select(['se.id', 'd.school_id', 'se.package', 'se.package_sha256'])
    .where('d.school_id', '=', schoolId).where('se.id', '=', id).executeTakeFirst();
}

/** Flags this session's package carried (flags follow their device: `schoolId` is its school). */
export async function flagsDeliveredIn(db: DbOrTrx, schoolId: number, sessionId: string) {
  return db.selectFrom('device_flags').select(['id', 'name', 'params', 'delivered_at', 'applied_at'])
    .where('school_id', '=', schoolId).where('delivered_in', '=', sessionId).orderBy('id').execute();
}

/** Channels of these devices (all of one school) that are not idle (status 1 or 2), with their session. */
export async function busyChannels(db: DbOrTrx, schoolId: number, deviceIds: readonly string[]) {
  if (deviceIds.length === 0) return [];
  return db.selectFrom('sync_states').select(['school_id', 'device_id', 'channel', 'status', 'session_id'])
    .where('school_id', '=', schoolId).where('device_id', 'in', [...deviceIds]).where('status', '<>', 0)
    .orderBy('device_id').orderBy('channel').execute();
}

/**
 * Locks sessions in the order the worker does (the session row first, then the channel state),
 * so closing a channel while its batch is imported waits for the import instead of deadlocking.
 */
export async function lockSessions(trx: Trx, schoolId: number, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.selectFrom('sync_sessions').select('id').where('school_id', '=', schoolId).where('id', 'in', [...ids]).orderBy('id').forUpdate().execute();
}
