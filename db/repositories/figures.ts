// Reads behind the figures endpoints: the school's users, its stored user-days for a span,
// who is checked in now, and how far each device's data is known complete.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';
import type { MarkKind } from '../../shared/attendance/marks.js';

/** Changes whenever a user of the school is added, changed or deactivated (roster_xid is the writer's transaction id). */
export async function usersFingerprint(db: DbOrTrx, schoolId: number): Promise<string> {
  const row = await sql<{ n: string; a: string | null }>`SELECT count(*) AS n, sum(roster_xid) AS a FROM users WHERE school_id = ${schoolId}`.execute(db);
  return `${row.rows[0].n}:${row.rows[0].a ?? 0}`;
}

export async function figureUsers(db: DbOrTrx, schoolId: number) {
  return db.selectFrom('users').select(['id', 'name', 'badge', 'enrolled_on', 'deleted_at']).where('school_id', '=', schoolId).orderBy('id').execute();
}

export interface StoredUserDay {
  userId: number;
  date: string;
  seconds: number;
  openSince: Date | null;
  /** Checked in at least once that day (what counts someone present on a closed day). */
  checkedIn: boolean;
  /** Epoch ms of the first check-in (lateness); null without one. */
  firstCheckinAt: number | null;
  /** The standing mark (shared/attendance/marks.ts). */
  mark: MarkKind | null;
}

/**
 * Changes whenever any user-day of the school in [from, to] is written, added or removed:
 * the row count and two sums of `rev` (the id of the transaction that last wrote each row).
 * Read from the covering index alone. Unlike max(updated_at), commit order cannot fool it.
 */
export async function userDaysFingerprint(db: DbOrTrx, schoolId: number, from: string, to: string): Promise<string> {
  const row = await sql<{ n: string; a: string | null; b: string | null }>`
    SELECT count(*) AS n, sum(rev) AS a, sum(rev * (user_id % 1009 + 1)) AS b
    FROM user_days WHERE school_id = ${schoolId} AND date BETWEEN ${from}::date AND ${to}::date
  `.execute(db);
  const r = row.rows[0];
  return `${r.n}:${r.a ?? 0}:${r.b ?? 0}`;
}

/**
 * User-days of a school between two dates. One row comes back per user with the user's days
 * packed in arrays: far fewer objects to build than one per user-day (2,000 users × 31 days).
 */
export async function storedUserDays(db: DbOrTrx, schoolId: number, from: string, to: string): Promise<StoredUserDay[]> {
  const rows = await sql<{ user_id: number; dates: string[]; seconds: number[]; open_since: (Date | null)[]; first: (number | null)[]; marks: (MarkKind | null)[] }>`
    SELECT user_id, array_agg(date::text) AS dates, array_agg(seconds) AS seconds, array_agg(open_since) AS open_since,
      array_agg(date_part('epoch', first_checkin_at) * 1000) AS first, array_agg(mark) AS marks
    FROM user_days WHERE school_id = ${schoolId} AND date BETWEEN ${from}::date AND ${to}::date
    GROUP BY user_id
  `.execute(db);
  const days: StoredUserDay[] = [];
  for (const r of rows.rows) {
    for (let i = 0; i < r.dates.length; i++) {
      const open = r.open_since[i];
      const first = r.first[i];
      days.push({
        userId: Number(r.user_id), date: r.dates[i], seconds: Number(r.seconds[i]), openSince: open === null ? null : new Date(open),
        checkedIn: first !== null, firstCheckinAt: first === null ? null : Math.round(first), mark: r.marks[i],
      });
    }
  }
  return days;
}

/** Users with an interval open today (local date `today`). */
export async function checkedInNow(db: DbOrTrx, schoolId: number, today: string) {
  return db.selectFrom('user_days as d').innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['u.id as user_id', 'u.name', 'u.badge', 'd.open_since as since', 'd.seconds'])
    .where('d.school_id', '=', schoolId).where('d.date', '=', today).where('d.open_since', 'is not', null)
    .orderBy('d.open_since').execute();
}

export interface DeviceCompleteness {
  id: string;
  name: string;
  /** The device clock at its last successful sync, or its registration when it never synced. */
  complete_until: Date;
  last_synced_at: Date | null;
}

export async function deviceCompleteness(db: DbOrTrx, schoolId: number): Promise<DeviceCompleteness[]> {
  return db.selectFrom('devices')
    .select(['id', 'name', 'last_synced_at', sql<Date>`coalesce(last_device_clock, created_at)`.as('complete_until')])
    .where('school_id', '=', schoolId).where('disabled_at', 'is', null)
    .orderBy(sql`coalesce(last_device_clock, created_at)`).execute();
}
