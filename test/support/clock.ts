// The date a test runs on is not the test's to choose: the services read the real clock. A
// test whose school must be open "today", with check-ins "20 minutes ago" on that same day,
// pins what it can instead: a school open every day of the week, in a time zone where it is
// now mid-day. Then no weekend, no public holiday, no local midnight (even one crossed during
// a long run: local midnight is 11 hours away) and no DST change (fixed-offset zones) can
// move a now-relative row to another day or close the day it lands on.
import { addDays } from '../../shared/time/calendar.js';
import { localDateOf, localTimeOnDate } from '../../shared/time/zoned.js';

/** Every ISO weekday: a school that never closes for the day of the week. */
export const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

/**
 * A fixed-offset IANA zone in which the local time at `at` is between 12:00 and 12:59.
 * Etc/GMT zones are signed the POSIX way: Etc/GMT-3 is UTC+3.
 */
export function middayZone(at: number = Date.now()): string {
  const offset = 12 - new Date(at).getUTCHours(); // -11 … +12, all of which exist as Etc/GMT zones
  if (offset === 0) return 'Etc/UTC';
  return `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** A school's clock: its zone, today there, and instants at a local time on a day relative to today. */
export interface SchoolClock {
  timezone: string;
  today: string;
  /** `today` shifted by `days`. */
  day(days: number): string;
  /** The instant `hhmm` local on `today + days`, in ms. */
  at(days: number, hhmm: string): number;
}

export function schoolClock(timezone: string = middayZone(), now: number = Date.now()): SchoolClock {
  const today = localDateOf(now, timezone);
  return {
    timezone,
    today,
    day: (days) => addDays(today, days),
    at: (days, hhmm) => localTimeOnDate(addDays(today, days), hhmm, timezone).getTime(),
  };
}
