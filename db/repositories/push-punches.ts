// Punches (docs/protocol/push.md §4) as the worker's import writes them, for many sessions and terminals at
// once: pending sessions picked, users by badge, the set-based insert keyed by (terminal, PIN,
// local time), the reads and writes of type inference, and the sessions and terminals finished.
import { type RawBuilder, sql } from 'kysely';
import { PUSH_SESSION_CHANNEL, type PunchType } from '../../shared/protocol/push.js';
import type { DbOrTrx, Trx } from '../database.js';
import { fromEpochMs } from '../epoch-ms.js';

/** Users by (school, badge) for every school of a batch; deactivated users included (a punch from before their deactivation is history). Keys `school \t badge`. */
export async function usersByBadge(trx: Trx, wanted: ReadonlyArray<{ schoolId: number; badge: string }>): Promise<Map<string, number>> {
  if (wanted.length === 0) return new Map();
  const rows = await sql<{ id: number; school_id: number; badge: string }>`
    SELECT u.id, u.school_id, u.badge FROM users u
    JOIN unnest(${wanted.map((w) => w.schoolId)}::bigint[], ${wanted.map((w) => w.badge)}::text[]) AS k(school_id, badge)
      ON u.school_id = k.school_id AND u.badge = k.badge
  `.execute(trx);
  return new Map(rows.rows.map((r) => [`${r.school_id}\t${r.badge}`, Number(r.id)]));
}

export interface PunchRow {
  schoolId: number;
  deviceId: string;
  sessionId: string;
  userId: number;
  type: 'checkin' | 'checkout' | null;
  occurredAt: Date;
  pin: string;
  localTime: string;
  verify: number | null;
  status: number;
  /** °C as the terminal measured it (rtlog); null: not measured. */
  temperature: number | null;
}

/**
 * One statement for the rows of many sessions and terminals; answers the keys (`device \t pin \t
 * local time`) inserted, the others were held already. A row with a temperature (rtlog) at or
 * above its school's fever threshold raises a fever event in the same statement, as a v4
 * check-in does (staged-attendances.ts): compared as sent, not as numeric(4,1) stored it. Rows
 * without a temperature (every ATTLOG line) take the plain statement.
 */
export async function insertPunches(trx: Trx, rows: readonly PunchRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const source = sql`unnest(${rows.map((r) => r.schoolId)}::bigint[], ${rows.map((r) => r.deviceId)}::uuid[], ${rows.map((r) => r.sessionId)}::uuid[],
                ${rows.map((r) => r.userId)}::bigint[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.occurredAt.getTime())}::bigint[],
                ${rows.map((r) => r.pin)}::text[], ${rows.map((r) => r.localTime)}::timestamp[], ${rows.map((r) => r.verify)}::smallint[], ${rows.map((r) => r.status)}::smallint[],
                ${rows.map((r) => r.temperature)}::numeric[]) WITH ORDINALITY
         AS t(school_id, device_id, session_id, user_id, type, occurred_ms, pin, local_time, verify, status, temperature, ord)`;
  // The key first (attendance_push_keys: the partitioned table cannot hold it), then the rows
  // whose key went in, once each (the first in the rows' order), in the same statement.
  const fevers = rows.some((r) => r.temperature !== null) ? sql`,
      fevers AS (
        INSERT INTO fever_events (school_id, user_id, device_id, attendance_id, source, temperature, occurred_at)
        SELECT i.school_id, i.user_id, i.device_id, i.id, 'attendance', t.temperature, i.occurred_at
        FROM ins i JOIN t ON t.device_id = i.device_id AND t.pin = i.pin AND t.local_time = i.local_time
          JOIN schools s ON s.id = i.school_id
        WHERE t.temperature >= s.fever_threshold
        ORDER BY i.id
      )` : sql``;
  const result = await sql<{ device_id: string; pin: string; local_time: string }>`
    WITH t AS MATERIALIZED (SELECT * FROM ${source}),
    keys AS (
      INSERT INTO attendance_push_keys (school_id, device_id, pin, local_time) SELECT school_id, device_id, pin, local_time FROM t
      ON CONFLICT DO NOTHING
      RETURNING device_id, pin, local_time
    ), ins AS (
      INSERT INTO attendances (school_id, user_id, device_id, type, occurred_at, session_id, pin, local_time, verify, punch_status, type_inferred, temperature)
      SELECT t.school_id, t.user_id, t.device_id, coalesce(t.type, 'checkin'), ${fromEpochMs('t.occurred_ms')}, t.session_id,
        t.pin, t.local_time, t.verify, t.status, t.type IS NULL, t.temperature
      FROM (SELECT DISTINCT ON (t.device_id, t.pin, t.local_time) t.* FROM t JOIN keys k ON k.device_id = t.device_id AND k.pin = t.pin AND k.local_time = t.local_time
            ORDER BY t.device_id, t.pin, t.local_time, t.ord) t
      ORDER BY t.ord
      RETURNING id, school_id, user_id, device_id, pin, local_time, occurred_at
    )${fevers}
    SELECT device_id, pin, to_char(local_time, 'YYYY-MM-DD HH24:MI:SS') AS local_time FROM ins
  `.execute(trx);
  return new Set(result.rows.map((r) => `${r.device_id}\t${r.pin}\t${r.local_time}`));
}

/** The punches of these (terminal, PIN, local day)s in time order, locked (their types may change). */
export async function dayPunchesForPairing(trx: Trx, days: ReadonlyArray<[deviceId: string, pin: string, day: string]>) {
  if (days.length === 0) return [];
  const rows = await sql<{ id: string; device_id: string; school_id: string; user_id: string; pin: string; day: string; type: 'checkin' | 'checkout'; type_inferred: boolean; occurred_at: Date }>`
    SELECT a.id, a.device_id, a.school_id, a.user_id, a.pin, a.local_time::date::text AS day, a.type, a.type_inferred, a.occurred_at
    FROM attendances a JOIN unnest(${days.map((k) => k[0])}::uuid[], ${days.map((k) => k[1])}::text[], ${days.map((k) => k[2])}::date[]) AS k(device_id, pin, day)
      ON a.device_id = k.device_id AND a.pin = k.pin AND a.local_time >= k.day AND a.local_time < k.day + 1
    ORDER BY a.device_id, a.pin, a.local_time
    FOR UPDATE OF a
  `.execute(trx);
  return rows.rows;
}

export async function setPunchTypes(trx: Trx, changes: ReadonlyArray<{ id: number; type: 'checkin' | 'checkout' }>): Promise<void> {
  if (changes.length === 0) return;
  await sql`
    UPDATE attendances a SET type = c.type FROM unnest(${changes.map((c) => c.id)}::bigint[], ${changes.map((c) => c.type)}::text[]) AS c(id, type)
    WHERE a.id = c.id
  `.execute(trx);
}

/**
 * Punches without in/out (docs/protocol/push.md §4): on each (terminal, PIN, terminal-local day)
 * given (a batch or an import of held punches added one to), the day's punches are taken in time
 * order; a punch with a type keeps it and sets the state, an inferred one opens when nothing is
 * open and closes otherwise. Rows whose inferred type changes (a late punch arrived in between)
 * are updated; answers them, their user-days to recompute.
 */
export async function pairInferredTypes(trx: Trx, days: ReadonlyArray<[deviceId: string, pin: string, day: string]>): Promise<Array<{ schoolId: number; userId: number; occurredAt: Date }>> {
  if (days.length === 0) return [];
  const rows = await dayPunchesForPairing(trx, days);
  const changes: Array<{ id: number; type: PunchType; schoolId: number; userId: number; occurredAt: Date }> = [];
  let group = '';
  let open = false;
  for (const r of rows) {
    const g = `${r.device_id}\t${r.pin}\t${r.day}`;
    if (g !== group) {
      group = g;
      open = false;
    }
    if (!r.type_inferred) {
      open = r.type === 'checkin';
      continue;
    }
    const type: PunchType = open ? 'checkout' : 'checkin';
    open = !open;
    if (type !== r.type) changes.push({ id: Number(r.id), type, schoolId: Number(r.school_id), userId: Number(r.user_id), occurredAt: r.occurred_at });
  }
  await setPunchTypes(trx, changes);
  return changes;
}

/** The terminals of a batch with their schools (what the import reads of them). */
export async function pushDevices(trx: Trx, deviceIds: readonly string[]) {
  if (deviceIds.length === 0) return new Map<string, never>();
  const rows = await trx.selectFrom('devices as d').innerJoin('schools as s', 's.id', 'd.school_id')
    .select(['d.id', 'd.school_id', 'd.timezone', 's.timezone as school_timezone', 's.day_end'])
    .where('d.id', 'in', [...deviceIds]).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The PUSH sessions the import queue claimed (db/repositories/import-session.ts
 * `claimNextImport`), locked for their import (a concurrent import of one of them waits here,
 * then finds it processed), oldest first, with their archives; the ones processed since the
 * claim are left out.
 */
export async function lockClaimedPushSessions(trx: Trx, ids: readonly string[]): Promise<Array<{ id: string; device_id: string; received_at: Date; archive: Buffer } & PushSessionOrigin>> {
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string; device_id: string; received_at: Date; archive: Buffer | null } & PushSessionOrigin>`
    SELECT id, device_id, received_at, archive, push_table, school_id FROM sync_sessions
     WHERE id = ANY(${[...ids]}::uuid[]) AND processed_at IS NULL AND channel = ${PUSH_SESSION_CHANNEL}
     ORDER BY received_at, id
       FOR UPDATE
  `.execute(trx);
  return rows.rows.map((r) => ({ ...r, archive: r.archive ?? Buffer.alloc(0) }));
}

export interface PushSessionOrigin {
  /** The table its archive holds (null: ATTLOG). */
  push_table: 'ATTLOG' | 'rtlog' | null;
  /** The school its terminal served when it was sent (null: a session stored before this was kept). */
  school_id: number | null;
}

/**
 * After a PUSH import: each session finished as imported and acknowledged (its `OK` was the
 * answer) with its stats, in one statement.
 */
export async function finishPushSessions(trx: Trx, sessions: ReadonlyArray<{ id: string; stats: unknown; clockSkewSeconds: number | null }>): Promise<void> {
  if (sessions.length === 0) return;
  await sql`
    UPDATE sync_sessions s SET outcome = 'imported', stats = t.stats::jsonb, clock_skew_seconds = t.skew, processed_at = now(), acked_at = now(), failure = NULL
    FROM unnest(${sessions.map((x) => x.id)}::uuid[], ${sessions.map((x) => JSON.stringify(x.stats))}::text[], ${sessions.map((x) => x.clockSkewSeconds)}::int[]) AS t(id, stats, skew)
    WHERE s.id = t.id
  `.execute(trx);
}

/** The terminals' health after a PUSH import: last sync, "complete up to" each batch's arrival, the clock skew a real-time punch gave. */
export async function finishPushDevices(trx: Trx, devices: ReadonlyArray<{ id: string; receivedAt: Date; clockSkewSeconds: number | null }>): Promise<void> {
  if (devices.length === 0) return;
  await sql`
    UPDATE devices d SET last_synced_at = now(), last_device_clock = greatest(d.last_device_clock, t.received),
      clock_skew_seconds = coalesce(t.skew, d.clock_skew_seconds), updated_at = now()
    FROM unnest(${devices.map((x) => x.id)}::uuid[], ${devices.map((x) => x.receivedAt.toISOString())}::timestamptz[], ${devices.map((x) => x.clockSkewSeconds)}::int[]) AS t(id, received, skew)
    WHERE d.id = t.id
  `.execute(trx);
}

/** A session the import queue gave up (its 1 + IMPORT_RETRY_LIMIT attempts spent): failed, shown to staff (a terminal sending the same bytes again makes a new session). Answers whether it was still pending. */
export async function failPushSession(db: DbOrTrx, sessionId: string, reason: string): Promise<boolean> {
  const result = await sql`
    UPDATE sync_sessions SET outcome = 'failed', failure = ${reason.slice(0, 2000)}, processed_at = now()
    WHERE id = ${sessionId}::uuid AND processed_at IS NULL
  `.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

