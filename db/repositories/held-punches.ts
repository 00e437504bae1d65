// Held punches (docs/protocol/push.md §4 "held punches"): PUSH punches refused as unknown_user, kept
// so staff can map their PIN to a user and have them imported then, once. The worker's import
// holds them (one statement per batch, a resend held once); staff list them per terminal and PIN
// and import a PIN's as a user's attendances, shaped as the import stores punches, their types
// paired and their user-days recomputed in the caller's transaction.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import { fromEpochMs } from '../epoch-ms.js';
import { pairInferredTypes } from './push-punches.js';
import { refreshUserDays, type TouchedAttendance } from './user-days.js';

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
}

/** Holds these refused punches in one statement; one already held (same terminal, PIN, local time) stays as it is. Answers how many were new. */
export async function holdPunches(trx: Trx, rows: readonly HeldPunchRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sql`
    INSERT INTO held_punches (school_id, device_id, session_id, pin, occurred_at, local_time, type, punch_status, verify, temperature)
    SELECT t.school_id, t.device_id, t.session_id, t.pin, ${fromEpochMs('t.occurred_ms')}, t.local_time, t.type, t.status, t.verify, t.temperature
    FROM unnest(${rows.map((r) => r.schoolId)}::bigint[], ${rows.map((r) => r.deviceId)}::uuid[], ${rows.map((r) => r.sessionId)}::uuid[],
      ${rows.map((r) => r.pin)}::text[], ${rows.map((r) => r.occurredAt.getTime())}::bigint[], ${rows.map((r) => r.localTime)}::timestamp[],
      ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.status)}::smallint[], ${rows.map((r) => r.verify)}::smallint[], ${rows.map((r) => r.temperature)}::numeric[])
      AS t(school_id, device_id, session_id, pin, occurred_ms, local_time, type, status, verify, temperature)
    ON CONFLICT (device_id, pin, local_time) DO NOTHING
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** A school's punches still held, per terminal and PIN, most recent first. */
export async function listHeldPunches(db: DbOrTrx, schoolId: number) {
  return db.selectFrom('held_punches as h').innerJoin('devices as d', 'd.id', 'h.device_id')
    .select((eb) => [
      'h.device_id', 'd.name as device_name', 'h.pin',
      eb.fn.countAll<string>().as('punches'), eb.fn.min('h.occurred_at').as('first_at'), eb.fn.max('h.occurred_at').as('last_at'),
    ])
    .where('h.school_id', '=', schoolId).where('h.imported_at', 'is', null)
    .groupBy(['h.device_id', 'd.name', 'h.pin'])
    .orderBy('last_at', 'desc').orderBy('h.device_id').orderBy('h.pin')
    .execute();
}

/**
 * Imports the punches of `pin` still held in `schoolId` as `userId`'s attendances (the user is the
 * caller's to check): inserted as the import inserts punches (terminal, session, PIN, local time,
 * a missing type paired), every one marked imported with the attendance that holds it, the
 * touched user-days recomputed. A punch already stored for its (terminal, PIN, local time) is
 * not stored twice: it counts as `already`. Run again, it finds nothing held: imported once.
 */
export async function importHeldPunches(trx: Trx, schoolId: number, pin: string, userId: number, now = new Date()): Promise<{ imported: number; already: number }> {
  const { imported, already, touched } = await storeHeldPunches(trx, schoolId, pin, userId, now);
  await refreshUserDays(trx, touched, now);
  return { imported, already };
}

/**
 * Of these (school, PIN)s, the ones with punches still held: the PUSH import, finding a badge the
 * roster gained (a user now carries a PIN it held punches of), imports them in its transaction.
 */
export async function pinsWithHeldPunches(trx: Trx, pins: ReadonlyArray<{ schoolId: number; pin: string }>): Promise<Array<{ schoolId: number; pin: string }>> {
  if (pins.length === 0) return [];
  const rows = await sql<{ school_id: string; pin: string }>`
    SELECT DISTINCT h.school_id, h.pin FROM held_punches h
    JOIN unnest(${pins.map((p) => p.schoolId)}::bigint[], ${pins.map((p) => p.pin)}::text[]) AS k(school_id, pin)
      ON h.school_id = k.school_id AND h.pin = k.pin AND h.imported_at IS NULL
  `.execute(trx);
  return rows.rows.map((r) => ({ schoolId: Number(r.school_id), pin: r.pin }));
}

/** importHeldPunches without the recompute: answers the attendances whose user-days the caller recomputes. */
export async function storeHeldPunches(trx: Trx, schoolId: number, pin: string, userId: number, now = new Date()): Promise<{ imported: number; already: number; touched: TouchedAttendance[] }> {
  const held = await sql<{ id: string }>`
    SELECT id FROM held_punches WHERE school_id = ${schoolId} AND pin = ${pin} AND imported_at IS NULL ORDER BY id FOR UPDATE
  `.execute(trx);
  if (held.rows.length === 0) return { imported: 0, already: 0, touched: [] };
  const ids = held.rows.map((r) => r.id);
  const inserted = await sql<{ school_id: string; user_id: string; occurred_at: Date; device_id: string; pin: string; day: string; type_inferred: boolean }>`
    INSERT INTO attendances (school_id, user_id, device_id, type, occurred_at, session_id, pin, local_time, verify, punch_status, type_inferred, temperature)
    SELECT h.school_id, ${userId}, h.device_id, coalesce(h.type, 'checkin'), h.occurred_at, h.session_id, h.pin, h.local_time, h.verify, h.punch_status, h.type IS NULL, h.temperature
    FROM held_punches h WHERE h.id = ANY(${ids}::bigint[])
    ORDER BY h.occurred_at, h.id
    ON CONFLICT (device_id, pin, local_time) WHERE pin IS NOT NULL DO NOTHING
    RETURNING school_id, user_id, occurred_at, device_id, pin, local_time::date::text AS day, type_inferred
  `.execute(trx);
  await sql`
    UPDATE held_punches h SET imported_at = ${now.toISOString()}::timestamptz, attendance_id = a.id
    FROM attendances a
    WHERE h.id = ANY(${ids}::bigint[]) AND a.device_id = h.device_id AND a.pin = h.pin AND a.local_time = h.local_time
  `.execute(trx);
  const touched: TouchedAttendance[] = inserted.rows.map((r) => ({ schoolId: Number(r.school_id), userId: Number(r.user_id), occurredAt: r.occurred_at }));
  const days = new Map<string, [string, string, string]>();
  for (const r of inserted.rows) if (r.type_inferred) days.set(`${r.device_id}\t${r.pin}\t${r.day}`, [r.device_id, r.pin, r.day]);
  touched.push(...await pairInferredTypes(trx, [...days.values()]));
  return { imported: inserted.rows.length, already: ids.length - inserted.rows.length, touched };
}
