// Fever alerts as staff read them: every fever event (from a check-in or a probe reading) with
// the user's name, newest first, keyset-paged on (occurred_at, id) over fever_events_school_time.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface ListedFeverEvent {
  id: number;
  school_id: number;
  user_id: number | null;
  user_name: string | null;
  device_id: string | null;
  attendance_id: number | null;
  source: string;
  temperature: number;
  occurred_at: Date;
  /** occurred_at with microseconds: the cursor must not lose precision. */
  cursor_at: string;
}

export interface FeverEventFilter {
  schoolId: number | null;
  from?: Date;
  to?: Date;
  before?: { at: string; id: number } | null;
  limit: number;
}

export async function listFeverEvents(db: DbOrTrx, f: FeverEventFilter): Promise<ListedFeverEvent[]> {
  let q = db.selectFrom('fever_events as f')
    .leftJoin('users as u', 'u.id', 'f.user_id')
    .select(['f.id', 'f.school_id', 'f.user_id', 'u.name as user_name', 'f.device_id', 'f.attendance_id', 'f.source', 'f.occurred_at'])
    .select(sql<number>`f.temperature::float8`.as('temperature'))
    .select(sql<string>`to_char(f.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .orderBy('f.occurred_at', 'desc').orderBy('f.id', 'desc')
    .limit(f.limit);
  if (f.schoolId !== null) q = q.where('f.school_id', '=', f.schoolId);
  if (f.from) q = q.where('f.occurred_at', '>=', f.from);
  if (f.to) q = q.where('f.occurred_at', '<', f.to);
  if (f.before) q = q.where(sql<boolean>`(f.occurred_at, f.id) < (${f.before.at}::timestamptz, ${f.before.id})`);
  return q.execute();
}
