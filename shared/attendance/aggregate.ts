// Turns stored user-days into present/absent/total per day, ISO week or month bucket — the
// figures the aggregate endpoint answers. Pure: the caller loads the rows, this counts.
import { eachDate } from '../time/calendar.js';
import { startOfLocalDay, todayIn } from '../time/zoned.js';
import { bucketsFor, begunSchoolDays, isFinal, spanOf, type Bucket, type Period } from './buckets.js';
import { DEFAULT_SCHOOL_DAYS, isPresentOnDay, periodPresence } from './presence.js';
import { dayClock, type DayClock, type UserDay } from './user-day.js';

/** Ids as the database gives them: int4 arrives as number, int8 as string; keyed as strings. */
export type UserId = number | string;

export interface AggregateSchool {
  timezone: string;
  /** 'HH:MM' */
  dayEnd: string;
  /** ISO weekdays; Monday–Friday when absent. */
  schoolDays?: readonly number[];
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
}

export type PresenceStatus = 'present' | 'absent';

export interface BucketFigures extends Bucket {
  present: number;
  absent: number;
  total: number;
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

export interface UserStatuses {
  userId: UserId;
  /** One per bucket, same order; null where the user is not counted. */
  statuses: Array<PresenceStatus | null>;
}

export interface AggregateResult {
  buckets: BucketFigures[];
  users?: UserStatuses[];
}

/** What one begun date knows; per-user flags are indexed like the `users` array below. */
interface DayFacts {
  date: string;
  clock: DayClock;
  startMs: number;
  /** 1 where the user has a stored user-day that date ("anyone with an attendance that day"). */
  attended: Uint8Array;
  present: Uint8Array;
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
 * - day: users counted that day, present per `isPresentOnDay` (live part added for today).
 *   Any day, school day or not: DESIGN §4 makes no exception, so a Saturday shows the
 *   enrolled users mostly absent. A day after today counts nobody (total 0): not begun.
 * - week/month: a user is counted when counted on at least one school day of the bucket that
 *   has begun; present when present on more than 80% of those days on which they are counted
 *   (their own denominator, so someone enrolled on Thursday is judged on Thu–Fri only).
 *   Non-school days count for neither side.
 * Rows for users not in `users` still count, on their days only.
 * Cost: O(rows + users × days); no luxon call per user or per row.
 */
export function aggregatePresence(input: AggregateInput): AggregateResult {
  const { school, now, completeUntil } = input;
  const tz = school.timezone;
  const schoolDays = school.schoolDays ?? DEFAULT_SCHOOL_DAYS;
  const buckets = bucketsFor(input.period, input.from, input.to);
  const span = spanOf(buckets);
  if (span === null) return input.includeUsers ? { buckets: [], users: [] } : { buckets: [] };
  const today = todayIn(tz, now);

  const lastBegun = span.end < today ? span.end : today; // later dates count nobody

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
      clock: dayClock({ date, timezone: tz, dayEnd: school.dayEnd, now, today }),
      startMs: startOfLocalDay(date, tz).getTime(),
      attended: new Uint8Array(users.length),
      present: new Uint8Array(users.length),
    });
  }
  input.userDays.forEach((row, r) => {
    const i = rowUser[r];
    if (i < 0) return;
    const day = days.get(row.date)!;
    day.attended[i] = 1;
    if (isPresentOnDay(row, day.clock)) day.present[i] = 1;
  });

  const statuses: Array<Array<PresenceStatus | null>> | null = input.includeUsers ? users.map(() => []) : null;
  const figures: BucketFigures[] = buckets.map((bucket) => {
    const dates = input.period === 'day' ? (days.has(bucket.start) ? [bucket.start] : []) : begunSchoolDays(bucket, schoolDays, today);
    const facts = dates.map((d) => days.get(d)!);
    let present = 0;
    let total = 0;
    for (let i = 0; i < users.length; i++) {
      const u = users[i];
      let countedDays = 0;
      let presentDays = 0;
      for (const day of facts) {
        if (!isCountedOn(u, i, day)) continue;
        countedDays++;
        presentDays += day.present[i];
      }
      let status: PresenceStatus | null = null;
      if (countedDays > 0) {
        total++;
        // A day bucket is one day: present that day. A period needs > 80% of its counted days.
        const isPresent = input.period === 'day' ? presentDays === 1 : periodPresence(presentDays, countedDays);
        if (isPresent) present++;
        status = isPresent ? 'present' : 'absent';
      }
      statuses?.[i].push(status);
    }
    return { ...bucket, present, absent: total - present, total, final: isFinal(bucket, completeUntil, tz) };
  });

  if (!statuses) return { buckets: figures };
  return { buckets: figures, users: users.map((u, i) => ({ userId: u.id, statuses: statuses[i] })) };
}
