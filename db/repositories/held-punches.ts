// Held punches (docs/protocol/push.md §4 "held punches", docs/protocol/v4.md §4): punches refused as
// unknown_user (a PUSH PIN or a v4 user_id no user of the school carries) or as in_future (a
// suspect clock), kept so staff can import them once as a user's, or discard them. The worker's
// imports hold them (a resend held once: PUSH by terminal, PIN and local time, v4 by device and
// record id); staff list them per device and PIN with counts, and import or discard them; a user
// of the school gaining the badge has its unknown_user punches imported. An import stores them
// as the import stores punches (a missing PUSH type paired, fever events raised), the touched
// user-days recomputed in the caller's transaction.
import { sql } from 'kysely';
import type { HeldAttendanceRow } from '../../shared/csv/attendance-row.js';
import type { DbOrTrx, Trx } from '../database.js';
import { fromEpochMs } from '../epoch-ms.js';
import { pairInferredTypes } from './push-punches.js';
import { refreshUserDays, type TouchedAttendance } from './user-days.js';

export type HeldReason = 'unknown_user' | 'in_future';

/** A PUSH line held by the worker's import. */
export interface HeldPunchRow {
  schoolId: number;
  deviceId: string;
  sessionId: string;
  pin: string;
  occurredAt: Date;
  localTime: string;
  type: 'checkin' | 'checkout' | null;
  status: number;
  verify: number | null;
  temperature: number | null;
  reason: HeldReason;
}

/** Holds these refused PUSH punches in one statement; one already held (same terminal, PIN, local time) stays as it is. Answers how many were new. */
export async function holdPunches(trx: Trx, rows: readonly HeldPunchRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sql`
    INSERT INTO held_punches (school_id, device_id, session_id, pin, occurred_at, local_time, type, punch_status, verify, temperature, reason)
    SELECT t.school_id, t.device_id, t.session_id, t.pin, ${fromEpochMs('t.occurred_ms')}, t.local_time, t.type, t.status, t.verify, t.temperature, t.reason
    FROM unnest(${rows.map((r) => r.schoolId)}::bigint[], ${rows.map((r) => r.deviceId)}::uuid[], ${rows.map((r) => r.sessionId)}::uuid[],
      ${rows.map((r) => r.pin)}::text[], ${rows.map((r) => r.occurredAt.getTime())}::bigint[], ${rows.map((r) => r.localTime)}::timestamp[],
      ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.status)}::smallint[], ${rows.map((r) => r.verify)}::smallint[], ${rows.map((r) => r.temperature)}::numeric[],
      ${rows.map((r) => r.reason)}::text[])
      AS t(school_id, device_id, session_id, pin, occurred_ms, local_time, type, status, verify, temperature, reason)
    ON CONFLICT DO NOTHING
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** A v4 attendances.csv row held as it was read (shared/csv/attendance-row.ts). */
export type HeldRecordRow = HeldAttendanceRow;

/** Holds v4 rows of one session; a (device, record id) held already stays as it is. */
export async function holdRecords(trx: Trx, target: { schoolId: number; deviceId: string; sessionId: string }, rows: readonly HeldRecordRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO held_punches (source, school_id, device_id, session_id, record_id, pin, occurred_at, type, temperature, photo, reason)
    SELECT DISTINCT ON (t.record_id) 'v4', ${target.schoolId}, ${target.deviceId}::uuid, ${target.sessionId}::uuid, t.record_id, t.pin, ${fromEpochMs('t.occurred_ms')}, t.type, t.temperature, t.photo, t.reason
    FROM unnest(${rows.map((r) => String(r.recordId))}::bigint[], ${rows.map((r) => r.pin)}::text[], ${rows.map((r) => r.occurredAt.getTime())}::bigint[],
      ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.temperature)}::numeric[], ${rows.map((r) => r.photo)}::text[], ${rows.map((r) => r.reason)}::text[])
      WITH ORDINALITY AS t(record_id, pin, occurred_ms, type, temperature, photo, reason, n)
    ORDER BY t.record_id, t.n
    ON CONFLICT DO NOTHING
  `.execute(trx);
}

/** What this session held, dropped: its file turned out unreadable, so none of its rows count (held ones neither). */
export async function dropSessionHolds(trx: Trx, schoolId: number, sessionId: string): Promise<void> {
  await sql`DELETE FROM held_punches WHERE school_id = ${schoolId} AND session_id = ${sessionId}::uuid AND source = 'v4' AND imported_at IS NULL`.execute(trx);
}

/**
 * A school's punches still held (neither imported nor discarded), per device, PIN and reason, most
 * recent first; with the school's user who now carries the PIN as badge (or, v4, as id), if any.
 */
export async function listHeldPunches(db: DbOrTrx, schoolId: number) {
  const rows = await sql<{
    device_id: string; device_name: string; source: 'push' | 'v4'; reason: HeldReason; pin: string; punches: string;
    first_at: Date; last_at: Date; with_temperature: string; user_id: string | null; user_name: string | null;
  }>`
    SELECT g.*, u.id AS user_id, u.name AS user_name FROM (
      SELECT h.device_id, d.name AS device_name, h.source, h.reason, h.pin, count(*) AS punches,
        min(h.occurred_at) AS first_at, max(h.occurred_at) AS last_at, count(h.temperature) AS with_temperature
      FROM held_punches h JOIN devices d ON d.id = h.device_id
      WHERE h.school_id = ${schoolId} AND h.imported_at IS NULL AND h.discarded_at IS NULL
      GROUP BY h.device_id, d.name, h.source, h.reason, h.pin
    ) g
    LEFT JOIN LATERAL (
      SELECT u.id, u.name FROM users u
      -- CASE: a PIN that is no number is never cast (AND does not promise its order).
      WHERE u.school_id = ${schoolId} AND (u.badge = g.pin OR u.id = CASE WHEN g.source = 'v4' AND g.pin ~ '^[0-9]{1,18}$' THEN g.pin::bigint END)
      ORDER BY (u.badge = g.pin) DESC LIMIT 1
    ) u ON true
    ORDER BY g.last_at DESC, g.device_id, g.pin, g.reason
  `.execute(db);
  return rows.rows;
}

/** Which held punches an import or discard takes: a PIN's, of one reason, from every device of the school or one. */
export interface HeldSelector {
  schoolId: number;
  pin: string;
  reason: HeldReason;
  deviceId?: string | undefined;
}

const waiting = (s: HeldSelector) => sql`school_id = ${s.schoolId} AND pin = ${s.pin} AND reason = ${s.reason}
  ${s.deviceId === undefined ? sql`` : sql`AND device_id = ${s.deviceId}::uuid`} AND imported_at IS NULL AND discarded_at IS NULL`;

/**
 * Imports the held punches `s` selects as `userId`'s attendances (the user is the caller's to
 * check), once, and recomputes the touched user-days. A punch the server already stored (same
 * terminal, PIN and local time, or same device and record id) is not stored twice: `already`.
 */
export async function importHeldPunches(trx: Trx, s: HeldSelector, userId: number, staffId: number | null, now = new Date()): Promise<{ imported: number; already: number }> {
  const { imported, already, touched } = await storeHeldPunches(trx, s, userId, staffId, now);
  await refreshUserDays(trx, touched, now);
  return { imported, already };
}

/** Marks the held punches `s` selects discarded, by whom: never imported, no longer listed. Answers how many. */
export async function discardHeldPunches(trx: Trx, s: HeldSelector, staffId: number, now = new Date()): Promise<number> {
  const result = await sql`
    UPDATE held_punches SET discarded_at = ${now.toISOString()}::timestamptz, discarded_by = ${staffId} WHERE ${waiting(s)}
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Of these (school, PIN)s, the ones with unknown_user punches still held: the PUSH import, finding
 * a badge the roster gained (a user now carries a PIN it held punches of), imports them in its transaction.
 */
export async function pinsWithHeldPunches(trx: Trx, pins: ReadonlyArray<{ schoolId: number; pin: string }>): Promise<Array<{ schoolId: number; pin: string }>> {
  if (pins.length === 0) return [];
  const rows = await sql<{ school_id: string; pin: string }>`
    SELECT DISTINCT h.school_id, h.pin FROM held_punches h
    JOIN unnest(${pins.map((p) => p.schoolId)}::bigint[], ${pins.map((p) => p.pin)}::text[]) AS k(school_id, pin)
      ON h.school_id = k.school_id AND h.pin = k.pin AND h.reason = 'unknown_user' AND h.imported_at IS NULL AND h.discarded_at IS NULL
  `.execute(trx);
  return rows.rows.map((r) => ({ schoolId: Number(r.school_id), pin: r.pin }));
}

/**
 * The roster gained a user (created, or its badge changed): the unknown_user punches its school
 * holds for its badge (PUSH PIN or v4 user_id sent), or for its id (v4), are imported as its
 * attendances now, once, in the caller's transaction. Answers how many were stored.
 */
export async function importHeldForUser(trx: Trx, user: { id: number; school_id: number; badge: string }, now = new Date()): Promise<number> {
  let imported = 0;
  const touched: TouchedAttendance[] = [];
  const keys: Array<{ pin: string; source: 'v4' | null }> = [{ pin: user.badge, source: null }, { pin: String(user.id), source: 'v4' }];
  for (const key of keys) {
    const found = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM held_punches
      WHERE school_id = ${user.school_id} AND pin = ${key.pin} AND reason = 'unknown_user' AND imported_at IS NULL AND discarded_at IS NULL
        ${key.source === null ? sql`` : sql`AND source = ${key.source}`}
    `.execute(trx);
    if (found.rows[0].n === 0) continue;
    const stored = await storeHeldPunches(trx, { schoolId: user.school_id, pin: key.pin, reason: 'unknown_user' }, user.id, null, now, key.source ?? undefined);
    imported += stored.imported;
    touched.push(...stored.touched);
  }
  await refreshUserDays(trx, touched, now);
  return imported;
}

/**
 * importHeldPunches without the recompute: answers the attendances whose user-days the caller
 * recomputes. Stored as the imports store them (a released in_future punch marked clock-suspect),
 * a fever event for one at or above the school's threshold, a missing PUSH type paired.
 */
export async function storeHeldPunches(trx: Trx, s: HeldSelector, userId: number, staffId: number | null, now = new Date(), source?: 'push' | 'v4'):
  Promise<{ imported: number; already: number; touched: TouchedAttendance[] }> {
  const held = await sql<{ id: string }>`
    SELECT id FROM held_punches WHERE ${waiting(s)} ${source === undefined ? sql`` : sql`AND source = ${source}`} ORDER BY id FOR UPDATE
  `.execute(trx);
  if (held.rows.length === 0) return { imported: 0, already: 0, touched: [] };
  const ids = held.rows.map((r) => r.id);
  const inserted = await sql<{ school_id: string; user_id: string; occurred_at: Date; device_id: string; pin: string | null; day: string | null; type_inferred: boolean }>`
    WITH h AS MATERIALIZED (SELECT * FROM held_punches WHERE school_id = ${s.schoolId} AND id = ANY(${ids}::bigint[])),
    -- The device keys first (attendance_keys, attendance_push_keys: the partitioned table cannot
    -- hold them): a punch whose key is held already is not stored again.
    v4_keys AS (
      INSERT INTO attendance_keys (school_id, device_id, record_id, attendance_id, occurred_at)
      SELECT school_id, device_id, record_id, nextval('attendances_id_seq'), occurred_at FROM h WHERE source = 'v4'
      ON CONFLICT DO NOTHING RETURNING device_id, record_id, attendance_id
    ), push_keys AS (
      INSERT INTO attendance_push_keys (school_id, device_id, pin, local_time) SELECT school_id, device_id, pin, local_time FROM h WHERE source = 'push'
      ON CONFLICT DO NOTHING RETURNING device_id, pin, local_time
    ), ins AS (
      INSERT INTO attendances (id, school_id, user_id, device_id, record_id, type, occurred_at, session_id, pin, local_time, verify, punch_status, type_inferred,
        temperature, photo, clock_suspect) OVERRIDING SYSTEM VALUE
      SELECT coalesce(vk.attendance_id, nextval('attendances_id_seq')), h.school_id, ${userId}, h.device_id, h.record_id, coalesce(h.type, 'checkin'), h.occurred_at,
        -- Sessions are pruned; the held row keeps its id without a key.
        (SELECT s.id FROM sync_sessions s WHERE s.id = h.session_id),
        CASE WHEN h.source = 'push' THEN h.pin END, h.local_time, h.verify, h.punch_status, h.type IS NULL, h.temperature, h.photo, h.reason = 'in_future'
      FROM h LEFT JOIN v4_keys vk ON h.source = 'v4' AND vk.device_id = h.device_id AND vk.record_id = h.record_id
      WHERE CASE WHEN h.source = 'push' THEN EXISTS (SELECT 1 FROM push_keys k WHERE k.device_id = h.device_id AND k.pin = h.pin AND k.local_time = h.local_time)
        ELSE vk.attendance_id IS NOT NULL END
      ORDER BY h.occurred_at, h.id
      RETURNING id, school_id, user_id, device_id, record_id, pin, local_time, occurred_at, type_inferred, temperature
    ), fevers AS (
      INSERT INTO fever_events (school_id, user_id, device_id, attendance_id, source, record_id, temperature, occurred_at)
      SELECT i.school_id, i.user_id, i.device_id, i.id, 'attendance', i.record_id, i.temperature, i.occurred_at
      FROM ins i JOIN schools sc ON sc.id = i.school_id
      WHERE i.temperature >= sc.fever_threshold
      ORDER BY i.id
    )
    SELECT school_id, user_id, occurred_at, device_id, pin, local_time::date::text AS day, type_inferred FROM ins
  `.execute(trx);
  await sql`
    UPDATE held_punches h SET imported_at = ${now.toISOString()}::timestamptz, imported_by = ${staffId},
      attendance_id = CASE WHEN h.source = 'push'
        THEN (SELECT a.id FROM attendances a WHERE a.device_id = h.device_id AND a.pin = h.pin AND a.local_time = h.local_time LIMIT 1)
        ELSE (SELECT k.attendance_id FROM attendance_keys k WHERE k.school_id = h.school_id AND k.device_id = h.device_id AND k.record_id = h.record_id) END
    WHERE h.school_id = ${s.schoolId} AND h.id = ANY(${ids}::bigint[])
  `.execute(trx);
  const touched: TouchedAttendance[] = inserted.rows.map((r) => ({ schoolId: Number(r.school_id), userId: Number(r.user_id), occurredAt: r.occurred_at }));
  const days = new Map<string, [string, string, string]>();
  for (const r of inserted.rows) if (r.type_inferred && r.pin !== null && r.day !== null) days.set(`${r.device_id}\t${r.pin}\t${r.day}`, [r.device_id, r.pin, r.day]);
  touched.push(...await pairInferredTypes(trx, [...days.values()]));
  return { imported: inserted.rows.length, already: ids.length - inserted.rows.length, touched };
}

/** The school's user who carries `pin` as badge (or, when v4 rows hold it as user_id, as id): whom a release without a named user imports as. */
export async function heldPinOwner(db: DbOrTrx, schoolId: number, pin: string): Promise<number | null> {
  const id = /^[0-9]{1,18}$/.test(pin) ? pin : null;
  const row = await sql<{ id: string }>`
    SELECT u.id FROM users u
    WHERE u.school_id = ${schoolId} AND (u.badge = ${pin} OR (u.id = ${id}::bigint AND EXISTS (
      -- An id only names a user for a v4 row (its user_id); a PUSH PIN is a badge.
      SELECT 1 FROM held_punches h WHERE h.school_id = ${schoolId} AND h.pin = ${pin} AND h.source = 'v4')))
    ORDER BY (u.badge = ${pin}) DESC LIMIT 1
  `.execute(db);
  return row.rows[0] ? Number(row.rows[0].id) : null;
}
