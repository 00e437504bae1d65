// Erasure of a pupil (docs/DATA-PROTECTION.md): users are never deleted (history, figures), so a
// pupil is erased by scrubbing in place what identifies them, and deleting what is about their
// health or their face. The figures (user_days, attendances' times and types) stay, attached to
// a user row that no longer says who it was.
// Table-driven: each step says what it does to one table's rows of the pupil. A new table that
// holds a pupil's data is one more step (the marks table: `{ table: 'marks', run: scrub(...) }`).
import { sql, type RawBuilder } from 'kysely';
import type { Trx } from '../database.js';
import { schoolOfRow } from './school-of.js';

export interface Pupil { id: number; school_id: number; badge: string }

interface Step { table: string; run: (p: Pupil) => RawBuilder<unknown> }

/** The placeholder that replaces a name and a badge: unique per school (badges are), says nothing. */
export const erasedName = (id: number) => `Erased pupil ${id}`;
export const erasedBadge = (id: number) => `erased-${id}`;

export const ERASURE_STEPS: readonly Step[] = [
  // Health data: fever alerts and thermometer readings go.
  // (A pupil's rows are all of its school: a user never changes school.)
  { table: 'alert_deliveries', run: (p) => sql`
      DELETE FROM alert_deliveries WHERE school_id = ${p.school_id}
        AND fever_event_id IN (SELECT id FROM fever_events WHERE school_id = ${p.school_id} AND user_id = ${p.id})` },
  { table: 'fever_events', run: (p) => sql`DELETE FROM fever_events WHERE school_id = ${p.school_id} AND user_id = ${p.id}` },
  { table: 'readings', run: (p) => sql`DELETE FROM readings WHERE school_id = ${p.school_id} AND user_id = ${p.id}` },
  // Photos: the index entries of this pupil's check-ins, then the photos no check-in refers to.
  { table: 'device_photos', run: (p) => sql`
      DELETE FROM device_photos dp USING attendances a
      WHERE a.school_id = ${p.school_id} AND a.user_id = ${p.id} AND a.photo IS NOT NULL
        AND dp.school_id = a.school_id AND dp.device_id = a.device_id AND dp.name = a.photo` },
  // Attendances stay (the figures) without temperature, photo or PIN (a PUSH PIN is the badge):
  // the PIN becomes a per-row token, so the (terminal, PIN, time) key stays unique.
  // The (terminal, PIN, time) key is held beside the rows (attendance_push_keys): it takes the same token first.
  { table: 'attendance_push_keys', run: (p) => sql`
      UPDATE attendance_push_keys k SET pin = 'erased-' || a.id FROM attendances a
      WHERE a.school_id = ${p.school_id} AND a.user_id = ${p.id} AND a.pin IS NOT NULL AND a.pin <> 'erased-' || a.id
        AND k.school_id = a.school_id AND k.device_id = a.device_id AND k.pin = a.pin AND k.local_time = a.local_time` },
  { table: 'attendances', run: (p) => sql`
      UPDATE attendances SET temperature = NULL, photo = NULL, pin = CASE WHEN pin IS NULL THEN NULL ELSE 'erased-' || id END
      WHERE school_id = ${p.school_id} AND user_id = ${p.id} AND (temperature IS NOT NULL OR photo IS NOT NULL OR pin IS NOT NULL)` },
  { table: 'photos', run: () => sql`
      DELETE FROM photos ph WHERE NOT EXISTS (SELECT 1 FROM device_photos dp WHERE dp.sha256 = ph.sha256)` },
  // What PUSH terminals said about this badge: their user list and punches held for it.
  { table: 'push_terminal_users', run: (p) => sql`
      DELETE FROM push_terminal_users tu USING devices d WHERE d.id = tu.device_id AND d.school_id = ${p.school_id} AND tu.pin = ${p.badge}` },
  // (a v4 device's held row names the user by the id it sent, a PUSH terminal's by the badge)
  { table: 'held_punches', run: (p) => sql`DELETE FROM held_punches WHERE school_id = ${p.school_id} AND pin IN (${p.badge}, ${String(p.id)})` },
  // The staff audit keeps who did what to this user and when, not the name and badge it wrote down
  // (every audit row about a user names the user's school: api/routes/users.ts).
  { table: 'staff_audit', run: (p) => sql`
      UPDATE staff_audit SET details = '{"erased": true}'::jsonb
      WHERE school_id = ${p.school_id} AND subject = 'user' AND subject_id = ${p.id} AND details <> '{"erased": true}'::jsonb` },
  // Raw uploads and packages of the school carry names, badges and temperatures (packages carry
  // the whole roster): those no longer needed go (an import still to run keeps its archive, a
  // package still to be acknowledged stays until then; the retention job takes it after).
  { table: 'sync_sessions', run: (p) => sql`
      UPDATE sync_sessions s SET archive = CASE WHEN s.processed_at IS NOT NULL THEN NULL ELSE s.archive END,
                                 package = CASE WHEN s.acked_at IS NOT NULL THEN NULL ELSE s.package END
      FROM devices d
      WHERE d.id = s.device_id AND d.school_id = ${p.school_id}
        AND ((s.archive IS NOT NULL AND s.processed_at IS NOT NULL) OR (s.package IS NOT NULL AND s.acked_at IS NOT NULL))` },
  { table: 'push_uploads', run: (p) => sql`
      DELETE FROM push_uploads pu USING devices d WHERE d.id = pu.device_id AND d.school_id = ${p.school_id}` },
  { table: 'push_operlog', run: (p) => sql`
      DELETE FROM push_operlog ol USING devices d WHERE d.id = ol.device_id AND d.school_id = ${p.school_id} AND ol.line ~ ('(^|\\s)PIN=' || ${p.badge} || '(\\s|$)')` },
  // Last, the user row: name and badge replaced, off the roster (terminals are told to delete it).
  { table: 'users', run: (p) => sql`
      UPDATE users SET name = ${erasedName(p.id)}, badge = ${erasedBadge(p.id)}, deleted_at = coalesce(deleted_at, now())
      WHERE school_id = ${p.school_id} AND id = ${p.id}` },
];

/**
 * Erases one pupil in the caller's transaction; answers rows touched per table (null: no such user).
 * `schoolId`: the pupil's school when the caller knows it (a school's offboarding); the operator's
 * CLI names a pupil by id alone, and its school is looked up first.
 */
export async function erasePupil(trx: Trx, userId: number, schoolId?: number): Promise<Record<string, number> | null> {
  const school = schoolId ?? await schoolOfRow(trx, 'users', userId);
  if (school === undefined) return null;
  const row = await trx.selectFrom('users').select(['id', 'school_id', 'badge']).where('school_id', '=', school).where('id', '=', userId).forUpdate().executeTakeFirst();
  if (!row) return null;
  const pupil = { id: Number(row.id), school_id: Number(row.school_id), badge: row.badge };
  const scrubbed: Record<string, number> = {};
  for (const step of ERASURE_STEPS) {
    const result = await step.run(pupil).execute(trx);
    scrubbed[step.table] = (scrubbed[step.table] ?? 0) + Number(result.numAffectedRows ?? 0);
  }
  await sql`INSERT INTO erasures (user_id, school_id, scrubbed) VALUES (${pupil.id}, ${pupil.school_id}, ${JSON.stringify(scrubbed)}::jsonb)
            ON CONFLICT (user_id, school_id) DO UPDATE SET erased_at = now(), scrubbed = excluded.scrubbed`.execute(trx);
  return scrubbed;
}

/** Every pupil of a school, for its offboarding. */
export async function pupilsOfSchool(trx: Trx, schoolId: number): Promise<number[]> {
  return (await trx.selectFrom('users').select('id').where('school_id', '=', schoolId).orderBy('id').execute()).map((u) => Number(u.id));
}
