// Product rows → exported records, through the entity descriptions of shared/datamart.
import type { AttendanceDaySource, PersonSource, SchoolSource } from '../../db/repositories/datamart-records.js';
import { dayVerdict, type MarkKind } from '../../shared/attendance/marks.js';
import { dayClock, secondsAt } from '../../shared/attendance/user-day.js';
import { ATTENDANCE_DAYS, PERSONS, SCHOOLS } from '../../shared/datamart/entities.js';
import { buildRecord, type ExportRecord } from '../../shared/datamart/record.js';

export function schoolRecord(s: SchoolSource, prefix: string): ExportRecord {
  return buildRecord(SCHOOLS, {
    id: s.id, name: s.name, timezone: s.timezone, school_days: s.school_days, day_end: s.day_end,
    attendance_threshold: s.attendance_threshold, late_after: s.late_after, records_from: s.records_from,
  }, prefix);
}

export function personRecord(p: PersonSource, prefix: string): ExportRecord {
  return buildRecord(PERSONS, {
    id: p.id, school_id: p.school_id, name: p.name, badge: p.badge, enrolled_on: p.enrolled_on,
    active: p.deleted_at === null, deactivated_at: p.deleted_at,
  }, prefix);
}

/**
 * A finished school day. A row stored while its day was still running may hold an open
 * interval: it is closed at the school's day_end and flagged missing_checkout, exactly as the
 * worker would recompute it (shared/attendance/user-day.ts).
 */
export function attendanceDayRecord(d: AttendanceDaySource, prefix: string, now = new Date()): ExportRecord {
  const clock = dayClock({ date: d.date, timezone: d.timezone, dayEnd: d.day_end, now, lateAfter: d.late_after });
  const seconds = secondsAt({ seconds: d.seconds, openSince: d.open_since }, clock);
  const anomalies = d.open_since !== null && !d.anomalies.includes('missing_checkout') ? [...d.anomalies, 'missing_checkout'] : d.anomalies;
  // The day as the figures judge it (DESIGN §4), its open interval closed as above.
  const verdict = dayVerdict({ seconds, openSince: null, mark: d.mark as MarkKind | null, checkedIn: d.first_checkin_at !== null, firstCheckinAt: d.first_checkin_at }, clock);
  const recorded = d.records_from === null || d.date >= d.records_from;
  return buildRecord(ATTENDANCE_DAYS, {
    id: `${d.user_id}-${d.date}`, person_id: d.user_id, school_id: d.school_id, date: d.date,
    present: verdict.status === 'present', seconds, first_checkin_at: d.first_checkin_at, anomalies,
    status: recorded ? verdict.status : 'no_data', counted: recorded && verdict.status !== 'excused', late: verdict.late,
    mark: d.mark, mark_reason: d.mark_reason, mark_conflict: d.mark_conflict, marked_by: d.marked_by,
    corrections: d.corrections, corrected_by: d.corrected_by,
  }, prefix);
}
