// Splits a date range into day, ISO-week or calendar-month buckets of the school's calendar.
import { addDays, dateToUtcMs, eachDate, endOfMonth, startOfIsoWeek, startOfMonth } from '../time/calendar.js';
import { startOfLocalDay } from '../time/zoned.js';
import { isSchoolDay } from './presence.js';

export type Period = 'day' | 'week' | 'month';
export const PERIODS: readonly Period[] = ['day', 'week', 'month'];

/** Inclusive local dates. */
export interface Bucket {
  start: string;
  end: string;
}

/**
 * The buckets intersecting [from, to], in order. Weeks (Monday first) and months are always
 * whole, even where `from` or `to` falls inside one: a week's presence is defined over the
 * week's school days, so a clipped week would be a different figure and buckets would not
 * compare with each other. Fetch data for `spanOf(buckets)`, not just [from, to].
 */
export function bucketsFor(period: Period, from: string, to: string): Bucket[] {
  dateToUtcMs(from);
  dateToUtcMs(to);
  if (from > to) return [];
  const out: Bucket[] = [];
  let start = period === 'day' ? from : period === 'week' ? startOfIsoWeek(from) : startOfMonth(from);
  while (start <= to) {
    const end = period === 'day' ? start : period === 'week' ? addDays(start, 6) : endOfMonth(start);
    out.push({ start, end });
    start = addDays(end, 1);
  }
  return out;
}

/** The dates the buckets cover, first to last; null when there are none. */
export function spanOf(buckets: readonly Bucket[]): Bucket | null {
  if (buckets.length === 0) return null;
  return { start: buckets[0].start, end: buckets[buckets.length - 1].end };
}

/** School days of the bucket that have begun by `today` (today included), in order. */
export function begunSchoolDays(
  bucket: Bucket,
  schoolDays: readonly number[],
  today: string,
): string[] {
  const last = bucket.end < today ? bucket.end : today;
  return eachDate(bucket.start, last).filter((d) => isSchoolDay(d, schoolDays));
}

export function schoolDaysBegun(bucket: Bucket, schoolDays: readonly number[], today: string): number {
  return begunSchoolDays(bucket, schoolDays, today).length;
}

/** The instant the bucket ends: the start of the local day after its last day. */
export function bucketEndInstant(bucket: Bucket, tz: string): Date {
  return startOfLocalDay(addDays(bucket.end, 1), tz);
}

/**
 * Final when the school's data is complete up to (at least) the bucket's end; otherwise —
 * or when nothing is known to be complete (null) — provisional.
 */
export function isFinal(bucket: Bucket, completeUntil: Date | null, tz: string): boolean {
  return completeUntil !== null && bucketEndInstant(bucket, tz).getTime() <= completeUntil.getTime();
}
