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
