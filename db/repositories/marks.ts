// Marks (DESIGN §4): append-only rows stating a user-day; the user-days they touch are
// recomputed in the writer's transaction (user-days.ts refreshDays), as an import does.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { MarksTable } from '../schema/index.js';
import type { Insertable } from 'kysely';

export const MARK_PUBLIC = ['id', 'school_id', 'user_id', 'date', 'period', 'mark', 'reason', 'note', 'author_kind', 'staff_id', 'device_id', 'record_id', 'marked_at', 'created_at'] as const;

export async function insertMarks(trx: Trx, rows: ReadonlyArray<Insertable<MarksTable>>) {
  if (rows.length === 0) return [];
  return trx.insertInto('marks').values([...rows]).returning(MARK_PUBLIC).execute();
}

export interface MarkFilter {
  schoolId: number | null;
  userId?: number;
  from?: string;
  to?: string;
  afterId: number | null;
  limit: number;
}

/** Newest first would hide the precedence; by (date, id), the order they were written within a day. */
export async function listMarks(db: DbOrTrx, f: MarkFilter) {
  let q = db.selectFrom('marks').select(MARK_PUBLIC).orderBy('id').limit(f.limit);
  if (f.schoolId !== null) q = q.where('school_id', '=', f.schoolId);
  if (f.userId !== undefined) q = q.where('user_id', '=', f.userId);
  if (f.from) q = q.where('date', '>=', f.from);
  if (f.to) q = q.where('date', '<=', f.to);
  if (f.afterId !== null) q = q.where('id', '>', f.afterId);
  return q.execute();
}

export interface DeviceMarkTarget {
  schoolId: number;
  deviceId: string;
  sessionId: string;
}

export interface DeviceMark {
  recordId: number;
  userId: number;
  date: string;
  period: string | null;
  mark: string;
  reason: string | null;
  markedAt: Date;
}

/** A roll call's rows (channel appel), skipping (device, record_id) already held; answers what was inserted. */
export async function insertDeviceMarks(trx: Trx, target: DeviceMarkTarget, rows: readonly DeviceMark[]) {
  if (rows.length === 0) return [];
  const result = await sql<{ record_id: string; user_id: string; date: string }>`
    INSERT INTO marks (school_id, user_id, date, period, mark, reason, author_kind, device_id, record_id, session_id, marked_at)
    SELECT ${target.schoolId}, u, d, p, m, r, 'teacher', ${target.deviceId}::uuid, rid, ${target.sessionId}::uuid, at
    FROM unnest(${rows.map((x) => x.recordId)}::bigint[], ${rows.map((x) => x.userId)}::bigint[], ${rows.map((x) => x.date)}::date[],
                ${rows.map((x) => x.period)}::text[], ${rows.map((x) => x.mark)}::text[], ${rows.map((x) => x.reason)}::text[],
                ${rows.map((x) => x.markedAt.toISOString())}::timestamptz[]) AS t(rid, u, d, p, m, r, at)
    ON CONFLICT (device_id, record_id, school_id) DO NOTHING
    RETURNING record_id, user_id, date::text AS date
  `.execute(trx);
  return result.rows.map((r) => ({ recordId: Number(r.record_id), userId: Number(r.user_id), date: r.date }));
}

export interface StoredDeviceMark {
  user_id: number;
  date: string;
  period: string | null;
  mark: string;
  reason: string | null;
  marked_at: Date;
}

export async function storedDeviceMarks(db: DbOrTrx, schoolId: number, deviceId: string, recordIds: readonly number[]): Promise<Map<number, StoredDeviceMark>> {
  if (recordIds.length === 0) return new Map();
  const rows = await db.selectFrom('marks').select(['record_id', 'user_id', 'date', 'period', 'mark', 'reason', 'marked_at'])
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('record_id', 'in', [...recordIds]).execute();
  return new Map(rows.map((r) => [Number(r.record_id), r]));
}

/** User-days of a school whose marks need a look: teachers disagree, or marked absent but checked in. */
export async function markConflicts(db: DbOrTrx, schoolId: number, from: string, to: string) {
  return db.selectFrom('user_days as d').innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.user_id', 'u.name', 'u.badge', 'd.date', 'd.mark', 'd.mark_conflict'])
    .where('d.school_id', '=', schoolId).where('d.date', '>=', from).where('d.date', '<=', to).where('d.mark_conflict', 'is not', null)
    .orderBy('d.date').orderBy('u.name').execute();
}

/** The first day of the school's recorded attendance (the default records_from); null before any. */
export async function firstRecordedDay(db: DbOrTrx, schoolId: number): Promise<string | null> {
  const row = await sql<{ d: string | null }>`SELECT min(date)::text AS d FROM user_days WHERE school_id = ${schoolId}`.execute(db);
  return row.rows[0]?.d ?? null;
}
