// What the figures need of a school's own rules (DESIGN §4): its threshold, late_after, and
// records_from — the school's setting, or by default the first day of its recorded attendance.
import type { DbOrTrx } from '../../db/database.js';
import { firstRecordedDay } from '../../db/repositories/marks.js';
import type { School } from '../../db/schema/index.js';
import { addDays } from '../../shared/time/calendar.js';

/** The effective records_from; null when nothing is recorded yet. */
export async function effectiveRecordsFrom(db: DbOrTrx, school: School): Promise<string | null> {
  return school.records_from ?? await firstRecordedDay(db, school.id);
}

/** The aggregate's school rules. Nothing recorded yet: every day up to today is "no data". */
export function schoolDayRules(school: School, recordsFrom: string | null, today: string) {
  return {
    thresholdPercent: school.attendance_threshold,
    lateAfter: school.late_after?.slice(0, 5) ?? null,
    recordsFrom: recordsFrom ?? addDays(today, 1),
  };
}
