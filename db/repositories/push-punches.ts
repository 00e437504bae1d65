// PUSH punches (PUSH.md §4) as the worker's import writes them: users by badge, the set-based
// insert keyed by (terminal, PIN, local time), and the reads and writes of type inference.
import { sql } from 'kysely';
import type { Trx } from '../database.js';

export interface PunchRow {
  userId: number;
  type: 'checkin' | 'checkout' | null;
  occurredAt: Date;
  pin: string;
  localTime: string;
  verify: number | null;
  status: number;
}

/** Users of the school by badge; deactivated users included (a punch from before their deactivation is history). */
export async function usersByBadge(trx: Trx, schoolId: number, badges: readonly string[]): Promise<Map<string, number>> {
  if (badges.length === 0) return new Map();
  const rows = await sql<{ id: number; badge: string }>`
    SELECT id, badge FROM users WHERE school_id = ${schoolId} AND badge = ANY(${[...badges]}::text[])
  `.execute(trx);
  return new Map(rows.rows.map((r) => [r.badge, Number(r.id)]));
}

/** One statement per chunk; answers the keys (`pin \t local time`) inserted, the others were held already. */
export async function insertPunches(trx: Trx, target: { schoolId: number; deviceId: string; sessionId: string }, rows: readonly PunchRow[]): Promise<Set<string>> {
  const result = await sql<{ pin: string; local_time: string }>`
    INSERT INTO attendances (school_id, user_id, device_id, type, occurred_at, session_id, pin, local_time, verify, punch_status, type_inferred)
    SELECT ${target.schoolId}, t.user_id, ${target.deviceId}::uuid, coalesce(t.type, 'checkin'), t.occurred_at, ${target.sessionId}::uuid,
      t.pin, t.local_time, t.verify, t.status, t.type IS NULL
    FROM unnest(${rows.map((r) => r.userId)}::bigint[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.occurredAt.toISOString())}::timestamptz[],
                ${rows.map((r) => r.pin)}::text[], ${rows.map((r) => r.localTime)}::timestamp[], ${rows.map((r) => r.verify)}::smallint[], ${rows.map((r) => r.status)}::smallint[])
         AS t(user_id, type, occurred_at, pin, local_time, verify, status)
    ON CONFLICT (device_id, pin, local_time) WHERE pin IS NOT NULL DO NOTHING
    RETURNING pin, to_char(local_time, 'YYYY-MM-DD HH24:MI:SS') AS local_time
  `.execute(trx);
  return new Set(result.rows.map((r) => `${r.pin}\t${r.local_time}`));
}

/** The terminal's punches of these (PIN, local day)s in time order, locked (their types may change). */
export async function dayPunchesForPairing(trx: Trx, deviceId: string, days: ReadonlyArray<[pin: string, day: string]>) {
  const rows = await sql<{ id: string; user_id: string; pin: string; day: string; type: 'checkin' | 'checkout'; type_inferred: boolean; occurred_at: Date }>`
    SELECT a.id, a.user_id, a.pin, a.local_time::date::text AS day, a.type, a.type_inferred, a.occurred_at
    FROM attendances a JOIN unnest(${days.map((k) => k[0])}::text[], ${days.map((k) => k[1])}::date[]) AS k(pin, day)
      ON a.pin = k.pin AND a.local_time >= k.day AND a.local_time < k.day + 1
    WHERE a.device_id = ${deviceId}::uuid
    ORDER BY a.pin, a.local_time
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

/** The device fields the PUSH import reads. */
export async function pushDevice(trx: Trx, deviceId: string) {
  return trx.selectFrom('devices').select(['id', 'school_id', 'timezone']).where('id', '=', deviceId).executeTakeFirstOrThrow();
}

/**
 * After a PUSH import: the session acknowledged (its `OK` was the answer), the device's last
 * sync, "complete up to" the batch's arrival, and the clock skew a real-time punch gave.
 */
export async function finishPushImport(trx: Trx, sessionId: string, deviceId: string, receivedAt: Date, clockSkewSeconds: number | null): Promise<void> {
  await trx.updateTable('sync_sessions').set({ acked_at: sql`now()` }).where('id', '=', sessionId).execute();
  await trx.updateTable('devices').set({
    last_synced_at: sql`now()`,
    last_device_clock: sql`greatest(last_device_clock, ${receivedAt}::timestamptz)`,
    ...(clockSkewSeconds !== null && { clock_skew_seconds: clockSkewSeconds }),
    updated_at: sql`now()`,
  }).where('id', '=', deviceId).execute();
}
