// Presence rules (DESIGN §4): who is counted on a day, present on a day, present over a period.
import { isoWeekday } from '../time/calendar.js';
import { startOfLocalDay } from '../time/zoned.js';
import { dayClock, secondsAt, type DayClock, type DayContext, type UserDay } from './user-day.js';

/** Present on a day with strictly more than this many seconds (4 h). */
export const PRESENT_DAY_SECONDS = 4 * 3600;

/** ISO weekdays (1 = Monday … 7 = Sunday); the schools table's default is Monday–Friday. */
export const DEFAULT_SCHOOL_DAYS: readonly number[] = [1, 2, 3, 4, 5];

/**
 * Day presence: more than 4 h accumulated (today including the interval still open), or
 * checked in right now. "Checked in now" only exists today: a past day's open interval is
 * closed at day_end, and a future day (device clock ahead) has not happened yet.
 */
export function isPresentOnDay(
  day: Pick<UserDay, 'seconds' | 'openSince'> | null,
  ctx: DayContext | DayClock,
): boolean {
  if (day === null) return false;
  const clock = 'kind' in ctx ? ctx : dayClock(ctx);
  if (day.openSince !== null && clock.kind === 'today') return true;
  return secondsAt(day, clock) > PRESENT_DAY_SECONDS;
}

export function isSchoolDay(date: string, schoolDays: readonly number[] = DEFAULT_SCHOOL_DAYS): boolean {
  return schoolDays.includes(isoWeekday(date));
}

export interface CountableUser {
  /** 'YYYY-MM-DD', a school-local date. */
  enrolledOn: string;
  deletedAt: Date | null;
}

/**
 * Counted on `date`: enrolled on or before it and not deactivated before it (deactivated
 * during the day still counts that day), or with any attendance that day whatever their
 * enrolment says.
 */
export function isCounted(user: CountableUser, date: string, tz: string, hasAttendance: boolean): boolean {
  if (hasAttendance) return true;
  if (user.enrolledOn > date) return false;
  return user.deletedAt === null || user.deletedAt.getTime() >= startOfLocalDay(date, tz).getTime();
}

/**
 * Week/month presence: present on more than `thresholdPercent` (80) % of the days that count
 * for this user (begun, open, not excused, recorded, and on which they are counted). 4 of 5 is exactly 80%: absent. No such day:
 * not present (the user is not counted in the period at all; see aggregate.ts).
 */
export function periodPresence(daysPresent: number, schoolDaysBegun: number, thresholdPercent = DEFAULT_THRESHOLD_PERCENT): boolean {
  // Integers only, so the boundary is exact: p / n > t / 100  ⇔  100p > tn.
  return schoolDaysBegun > 0 && daysPresent * 100 > schoolDaysBegun * thresholdPercent;
}

/** The school setting `attendance_threshold`'s default: present over a period on more than 80 % of its counted days. */
export const DEFAULT_THRESHOLD_PERCENT = 80;

/** Days present over counted days, in percent with one decimal; null when no day is counted. */
export function attendanceRate(daysPresent: number, countedDays: number): number | null {
  if (countedDays <= 0) return null;
  return Math.round((daysPresent * 1000) / countedDays) / 10;
}
