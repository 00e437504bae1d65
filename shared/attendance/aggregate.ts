// Turns stored user-days into present/absent/total per day, ISO week or month bucket — the
// figures the aggregate endpoint answers. Pure: the caller loads the rows, this counts.
import { eachDate } from '../time/calendar.js';
import { startOfLocalDay, todayIn } from '../time/zoned.js';
import { bucketsFor, isFinal, spanOf, type Bucket, type Period } from './buckets.js';
import { dayVerdict, type MarkKind } from './marks.js';
import { attendanceRate, DEFAULT_SCHOOL_DAYS, DEFAULT_THRESHOLD_PERCENT, periodPresence, PRESENT_DAY_SECONDS } from './presence.js';
import { SchoolCalendar, type DayOpening, type SkipReason } from './school-calendar.js';
import { dayClock, type DayClock, type UserDay } from './user-day.js';

/** Ids as the database gives them: int4 arrives as number, int8 as string; keyed as strings. */
export type UserId = number | string;

export interface AggregateSchool {
  timezone: string;
  /** 'HH:MM' */
  dayEnd: string;
  /** ISO weekdays; Monday–Friday when absent. Ignored when `calendar` is given. */
  schoolDays?: readonly number[];
  /** The effective calendar (school days of the week + dated entries); from `schoolDays` alone when absent. */
  calendar?: SchoolCalendar;
  /** Week/month: present on more than this percent of the counted days (default 80). */
  thresholdPercent?: number;
  /** 'HH:MM': a present day whose first check-in is after it is late. */
  lateAfter?: string | null;
  /** 'YYYY-MM-DD': days before it are "no data" (never absent, never final); absent or null: every day is recorded. */
  recordsFrom?: string | null;
}

export interface AggregateUser {
  id: UserId;
  enrolledOn: string;
  deletedAt: Date | null;
}

/** A stored user-day; only these fields matter here. */
export interface UserDayRow extends Pick<UserDay, 'seconds' | 'openSince'> {
  userId: UserId;
  date: string;
  /** Checked in at least once that day; when absent, read as "some time or an open interval". */
  checkedIn?: boolean;
  /** The standing mark of the day (marks.resolveMarks), if any. */
  mark?: MarkKind | null;
  /** For lateness. */
  firstCheckinAt?: Date | number | null;
}

/** excused: every counted day of the bucket was excused for this user. */
export type PresenceStatus = 'present' | 'absent' | 'excused';

export interface BucketFigures extends Bucket {
  /** Verdicts: users present, absent, and both (excused users are in neither). */
  present: number;
  absent: number;
  total: number;
  /** Day: users excused that day; week/month: users excused on every counted day of it. */
  excused: number;
  /** Day: users late that day; week/month: users late at least once. */
  late: number;
  /** User-days behind the rate: counted (open, recorded, not excused) and present among them; late and excused user-days. */
  counted_user_days: number;
  days_present: number;
  late_days: number;
  excused_days: number;
  /** The school's attendance rate: days present / counted user-days, percent with one decimal; null when nothing is counted. */
  rate: number | null;
  /** No day of the bucket is on or after records_from: nothing recorded yet, so no verdict. */
  no_data: boolean;
  /** False while data up to the bucket's end may still arrive (see `isFinal`). */
  final: boolean;
}

export interface AggregateInput {
  school: AggregateSchool;
  period: Period;
  from: string;
  to: string;
  /** All the school's users, deactivated ones included (history stays). */
  users: readonly AggregateUser[];
  /** User-days of the school for `spanOf(bucketsFor(period, from, to))`; others are ignored. */
  userDays: readonly UserDayRow[];
  now: Date;
  completeUntil: Date | null;
  /** Also answer each user's status per bucket. */
  includeUsers?: boolean;
}

/** The counts behind a user's verdict in one bucket: open days they are counted on, and present on. */
export interface UserCounts {
  /** Counted days: open, begun, recorded, not excused. */
  openDays: number;
  daysPresent: number;
  excusedDays: number;
  lateDays: number;
  /** daysPresent / openDays in percent, one decimal; null when nothing is counted. */
  rate: number | null;
}

export interface UserStatuses {
  userId: UserId;
  /** One per bucket, same order; null where the user is not counted. */
  statuses: Array<PresenceStatus | null>;
  /** One per bucket, same order; null where the user is not counted. */
  counts: Array<UserCounts | null>;
}

export interface SkippedDay {
  date: string;
  reason: SkipReason;
  /** The calendar entry's label ("Christmas holidays"), the weekday, or "Not begun". */
  label: string;
}

/** Per bucket, which days were counted (open and begun) and which skipped, with why. */
export interface BucketDays {
  counted: string[];
  /** Open days before records_from (also in `skipped`, reason no_data). */
  noData: string[];
  skipped: SkippedDay[];
  /** Closed days of the bucket on which someone checked in: those users count as present on a day bucket. */
  attendedClosed: string[];
}

export interface AggregateResult {
  buckets: BucketFigures[];
  /** Same order as `buckets`. */
  days: BucketDays[];
  users?: UserStatuses[];
}

/** The rule the figures apply, in words and numbers, for clients to show beside them. */
export const PRESENCE_RULE = {
  day: 'present when more than 4 h were accumulated that day, or when checked in right now (today only); otherwise absent',
  period: 'present on more than the school\'s threshold (80 % by default) of the counted days of the period that have begun (today included): open days from enrolment, less excused days and days before records_from; otherwise absent',
  rate: 'days present / counted days, in percent; the school\'s rate pools every user\'s days',
  marks: 'a mark states the day: excused (left out of the counted days unless present by time), present or late (present), absent (absent unless checked in: then present and flagged); staff marks win over teachers\'',
  late: 'present and first check-in after the school\'s late_after (or marked late); never an absence',
  no_data: 'days before records_from (by default the first day of recorded attendance) are no data: never absent, never final',
  closed_day: 'a day the school is closed (not a school day, outside the terms, holiday, public holiday, closure) counts nobody absent; those who checked in on it are present on that day, and it does not count in a week or month',
  counted: 'users enrolled on or before the day and not deactivated before it, plus anyone with an attendance that day',
  present_day_seconds: PRESENT_DAY_SECONDS,
  period_threshold_percent: DEFAULT_THRESHOLD_PERCENT,
} as const;

/** The rule with this school's threshold. */
export function presenceRule(thresholdPercent = DEFAULT_THRESHOLD_PERCENT) {
  return { ...PRESENCE_RULE, period_threshold_percent: thresholdPercent };
}

/** What one begun date knows; per-user flags are indexed like the `users` array below. */
interface DayFacts {
  date: string;
  clock: DayClock;
  opening: DayOpening;
  startMs: number;
  /** 1 where the user has a stored user-day that date ("anyone with an attendance that day"). */
  attended: Uint8Array;
  present: Uint8Array;
  excused: Uint8Array;
  late: Uint8Array;
  /** Before records_from: nobody is judged on it. */
  noData: boolean;
  /** 1 where the user checked in that date (what makes someone present on a closed day). */
  came: Uint8Array;
  anyoneCame: boolean;
}

interface Counted {
  id: UserId;
  /** null: not in `users` — counted only on days with attendance. */
  enrolledOn: string | null;
  deletedAtMs: number;
}

function isCountedOn(u: Counted, i: number, day: DayFacts): boolean {
  if (day.attended[i] === 1) return true;
  // Deactivated during the day still counts that day (same rule as presence.isCounted).
  return u.enrolledOn !== null && u.enrolledOn <= day.date && !(u.deletedAtMs < day.startMs);
}

/**
 * Per bucket:
 * - day, open: users counted that day, present per `isPresentOnDay` (live part added for today).
 * - day, closed (weekend, holiday, closure…): nobody is absent; users who checked in that day
 *   are present (a Saturday event), and they are the only ones counted.
 * - day after today: counts nobody (total 0): not begun.
 * - week/month: a user is counted when counted on at least one open day of the bucket that
 *   has begun; present when present on more than 80% of those open days on which they are
 *   counted (their own denominator, so someone enrolled on Thursday is judged on Thu–Fri
 *   only). Closed days count for neither side, check-ins or not.
 * Rows for users not in `users` still count, on their days only.
 * Cost: O(rows + users × days); no luxon call per user or per row.
 */
export function aggregatePresence(input: AggregateInput): AggregateResult {
  const { school, now, completeUntil } = input;
  const tz = school.timezone;
  const calendar = school.calendar ?? new SchoolCalendar(school.schoolDays ?? DEFAULT_SCHOOL_DAYS);
  const buckets = bucketsFor(input.period, input.from, input.to);
  const span = spanOf(buckets);
  if (span === null) return input.includeUsers ? { buckets: [], days: [], users: [] } : { buckets: [], days: [] };
  const today = todayIn(tz, now);

  const lastBegun = span.end < today ? span.end : today; // later dates count nobody
  const threshold = school.thresholdPercent ?? DEFAULT_THRESHOLD_PERCENT;
  const recordsFrom = school.recordsFrom ?? null;

  // Users first, then anyone with rows who is not listed; index i everywhere below.
  const users: Counted[] = [];
  const indexOf = new Map<string, number>();
  for (const u of input.users) {
    indexOf.set(String(u.id), users.length);
    users.push({ id: u.id, enrolledOn: u.enrolledOn, deletedAtMs: u.deletedAt?.getTime() ?? Infinity });
  }
  const rowUser = new Int32Array(input.userDays.length).fill(-1); // -1: row outside the begun span
  input.userDays.forEach((row, r) => {
    if (row.date < span.start || row.date > lastBegun) return;
    const key = String(row.userId);
    let i = indexOf.get(key);
    if (i === undefined) {
      i = users.length;
      indexOf.set(key, i);
      users.push({ id: row.userId, enrolledOn: null, deletedAtMs: Infinity });
    }
    rowUser[r] = i;
  });

  const days = new Map<string, DayFacts>();
  for (const date of eachDate(span.start, lastBegun)) {
    days.set(date, {
      date,
      clock: dayClock({ date, timezone: tz, dayEnd: school.dayEnd, now, today, lateAfter: school.lateAfter ?? null }),
      opening: calendar.opening(date),
      startMs: startOfLocalDay(date, tz).getTime(),
      attended: new Uint8Array(users.length),
      present: new Uint8Array(users.length),
      excused: new Uint8Array(users.length),
      late: new Uint8Array(users.length),
      noData: recordsFrom !== null && date < recordsFrom,
      came: new Uint8Array(users.length),
      anyoneCame: false,
    });
  }
  input.userDays.forEach((row, r) => {
    const i = rowUser[r];
    if (i < 0) return;
    const day = days.get(row.date)!;
    day.attended[i] = 1;
    const verdict = dayVerdict(row, day.clock);
    if (verdict.status === 'present') day.present[i] = 1;
    else if (verdict.status === 'excused') day.excused[i] = 1;
    if (verdict.late) day.late[i] = 1;
    if (row.checkedIn ?? (row.seconds > 0 || row.openSince !== null)) {
      day.came[i] = 1;
      day.anyoneCame = true;
    }
  });

  const statuses: Array<Array<PresenceStatus | null>> | null = input.includeUsers ? users.map(() => []) : null;
  const counts: Array<Array<UserCounts | null>> | null = input.includeUsers ? users.map(() => []) : null;
  const explained: BucketDays[] = [];
  const figures: BucketFigures[] = buckets.map((bucket) => {
    const counted: DayFacts[] = [];
    const closedAttended: DayFacts[] = [];
    const why: BucketDays = { counted: [], noData: [], skipped: [], attendedClosed: [] };
    for (const date of input.period === 'day' ? [bucket.start] : eachDate(bucket.start, bucket.end)) {
      const day = days.get(date);
      if (!day) {
        why.skipped.push({ date, reason: 'not_begun', label: 'Not begun' });
      } else if (day.opening.open && day.noData) {
        why.noData.push(date);
        why.skipped.push({ date, reason: 'no_data', label: 'No data' });
      } else if (day.opening.open) {
        counted.push(day);
        why.counted.push(date);
      } else {
        why.skipped.push({ date, reason: day.opening.reason, label: day.opening.label });
        if (day.anyoneCame) {
          why.attendedClosed.push(date);
          closedAttended.push(day);
        }
      }
    }
    explained.push(why);
    // A closed day bucket counts only those who came, all present.
    const closedDay = input.period === 'day' && closedAttended.length === 1 ? closedAttended[0] : null;
    let present = 0;
    let total = 0;
    let excused = 0;
    let late = 0;
    const pooled = { counted: 0, present: 0, late: 0, excused: 0 };
    for (let i = 0; i < users.length; i++) {
      const u = users[i];
      let countedDays = 0;
      let presentDays = 0;
      let excusedDays = 0;
      let lateDays = 0;
      for (const day of counted) {
        if (!isCountedOn(u, i, day)) continue;
        if (day.excused[i] === 1) { excusedDays++; continue; }
        countedDays++;
        presentDays += day.present[i];
        lateDays += day.late[i];
      }
      let status: PresenceStatus | null = null;
      let userCounts: UserCounts | null = null;
      if (closedDay !== null) {
        if (closedDay.came[i] === 1) {
          total++;
          present++;
          status = 'present';
          userCounts = { openDays: 0, daysPresent: 1, excusedDays: 0, lateDays: 0, rate: null };
        }
      } else if (countedDays > 0) {
        total++;
        // A day bucket is one day: present that day. A period needs more than the threshold of its counted days.
        const isPresent = input.period === 'day' ? presentDays === 1 : periodPresence(presentDays, countedDays, threshold);
        if (isPresent) present++;
        if (lateDays > 0) late++;
        status = isPresent ? 'present' : 'absent';
        userCounts = { openDays: countedDays, daysPresent: presentDays, excusedDays, lateDays, rate: attendanceRate(presentDays, countedDays) };
      } else if (excusedDays > 0) {
        excused++;
        status = 'excused';
        userCounts = { openDays: 0, daysPresent: 0, excusedDays, lateDays: 0, rate: null };
      }
      pooled.counted += countedDays;
      pooled.present += presentDays;
      pooled.late += lateDays;
      pooled.excused += excusedDays;
      statuses?.[i].push(status);
      counts?.[i].push(userCounts);
    }
    const noData = why.noData.length > 0 && counted.length === 0;
    return {
      ...bucket, present, absent: total - present, total, excused, late,
      counted_user_days: pooled.counted, days_present: pooled.present, late_days: pooled.late, excused_days: pooled.excused,
      rate: attendanceRate(pooled.present, pooled.counted), no_data: noData,
      // A day with no data yet is never final.
      final: why.noData.length === 0 && isFinal(bucket, completeUntil, tz),
    };
  });

  if (!statuses) return { buckets: figures, days: explained };
  return { buckets: figures, days: explained, users: users.map((u, i) => ({ userId: u.id, statuses: statuses[i], counts: counts![i] })) };
}
