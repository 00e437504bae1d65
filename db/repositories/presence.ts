// Reads behind "who": a school's user-days of one date, one user's user-days over a range.
import type { DbOrTrx } from '../database.js';

const DAY_FIELDS = ['user_id', 'date', 'seconds', 'first_checkin_at', 'last_event_at', 'last_event_type', 'open_since', 'anomalies', 'mark', 'mark_reason', 'mark_conflict'] as const;

export async function schoolUserDaysOn(db: DbOrTrx, schoolId: number, date: string) {
  return db.selectFrom('user_days').select(DAY_FIELDS).where('school_id', '=', schoolId).where('date', '=', date).execute();
}

export async function userDaysOf(db: DbOrTrx, schoolId: number, userId: number, from: string, to: string) {
  return db.selectFrom('user_days').select(DAY_FIELDS)
    .where('school_id', '=', schoolId).where('user_id', '=', userId).where('date', '>=', from).where('date', '<=', to)
    .orderBy('date').execute();
}
