// Attendances as the REST API reads and writes them, and the fever events a reading raises.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { Attendance, AttendanceType, NewAttendance } from '../schema/index.js';

export const ATTENDANCE_PUBLIC = [
  'attendances.id', 'attendances.school_id', 'attendances.user_id', 'attendances.device_id', 'attendances.record_id',
  'attendances.type', 'attendances.occurred_at', 'attendances.temperature', 'attendances.photo', 'attendances.session_id',
  'attendances.clock_suspect', 'attendances.created_by', 'attendances.created_at', 'attendances.pin', 'attendances.verify', 'attendances.type_inferred',
  'attendances.reason', 'attendances.cancels_id',
] as const;
export type PublicAttendance = Omit<Attendance, 'idempotency_key' | 'local_time' | 'punch_status'>;

export async function findAttendance(db: DbOrTrx, schoolId: number, id: number): Promise<PublicAttendance | undefined> {
  return db.selectFrom('attendances').select(ATTENDANCE_PUBLIC).where('attendances.school_id', '=', schoolId).where('attendances.id', '=', id).executeTakeFirst();
}

export async function insertAttendance(trx: Trx, row: NewAttendance): Promise<PublicAttendance> {
  return trx.insertInto('attendances').values(row).returning(ATTENDANCE_PUBLIC).executeTakeFirstOrThrow();
}

/** A row cancelling a staff correction; undefined when it was already withdrawn (attendances_cancels is unique: the withdrawal has its correction's time, so its month). */
export async function withdrawCorrection(trx: Trx, correction: PublicAttendance, staffId: number, reason: string): Promise<PublicAttendance | undefined> {
  return trx.insertInto('attendances').values({
    school_id: correction.school_id, user_id: correction.user_id, device_id: null, record_id: null, type: correction.type,
    occurred_at: correction.occurred_at, temperature: null, photo: null, session_id: null, created_by: staffId, idempotency_key: null,
    reason, cancels_id: correction.id,
  }).onConflict((oc) => oc.columns(['school_id', 'cancels_id', 'occurred_at']).where('cancels_id', 'is not', null).doNothing()).returning(ATTENDANCE_PUBLIC).executeTakeFirst();
}

/** Deletes one row and its fever event (no key between them: attendances are partitioned) and answers what it was. */
export async function deleteAttendance(trx: Trx, schoolId: number, id: number): Promise<PublicAttendance | undefined> {
  const row = await trx.deleteFrom('attendances').where('attendances.school_id', '=', schoolId).where('attendances.id', '=', id).returning(ATTENDANCE_PUBLIC).executeTakeFirst();
  if (row) await trx.deleteFrom('fever_events').where('school_id', '=', schoolId).where('attendance_id', '=', id).execute();
  return row;
}

export async function insertFeverEvent(trx: Trx, attendance: PublicAttendance & { temperature: number }): Promise<void> {
  await trx.insertInto('fever_events').values({
    school_id: attendance.school_id,
    user_id: attendance.user_id,
    device_id: attendance.device_id,
    attendance_id: attendance.id,
    source: 'attendance',
    record_id: attendance.record_id,
    temperature: attendance.temperature,
    occurred_at: attendance.occurred_at,
  }).execute();
}

/** A position in the (occurred_at, id) order; `at` keeps PostgreSQL's microseconds, which a JS Date would drop. */
export interface AttendanceKey {
  at: string;
  id: number;
}

export interface AttendanceFilter {
  schoolId: number | null;
  userId?: number;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  type?: AttendanceType;
  after: AttendanceKey | null;
  limit: number;
}

export type ListedAttendance = PublicAttendance & { cursor_at: string };

/** In (occurred_at, id) order, served by attendances_school_time / attendances_user_time when a school is given. */
export async function listAttendances(db: DbOrTrx, f: AttendanceFilter): Promise<ListedAttendance[]> {
  let q = db.selectFrom('attendances')
    .select(ATTENDANCE_PUBLIC)
    .select(sql<string>`to_char(attendances.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .orderBy('attendances.occurred_at').orderBy('attendances.id')
    .limit(f.limit);
  if (f.schoolId !== null) q = q.where('attendances.school_id', '=', f.schoolId);
  if (f.userId !== undefined) q = q.where('attendances.user_id', '=', f.userId);
  if (f.from) q = q.where('attendances.occurred_at', '>=', f.from);
  if (f.to) q = q.where('attendances.occurred_at', '<', f.to);
  if (f.type) q = q.where('attendances.type', '=', f.type);
  if (f.after) q = q.where(sql<boolean>`(attendances.occurred_at, attendances.id) > (${f.after.at}::timestamptz, ${f.after.id})`);
  return q.execute();
}
