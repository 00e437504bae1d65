// Calendar arithmetic on plain 'YYYY-MM-DD' dates: no instants, no time zones.
// Local days are strings everywhere so that no Date ever silently drifts by an offset;
// such strings compare correctly with < and >.

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD' for a real calendar day (rejects 2026-02-30, 2026-2-3, …). */
export function isValidDate(date: string): boolean {
  const m = DATE_RE.exec(date);
  if (!m) return false;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return formatUtcDate(ms) === date;
}

/** Milliseconds of the date's midnight read as UTC: a day counter, not an instant. */
export function dateToUtcMs(date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`Invalid date: ${JSON.stringify(date)} (expected YYYY-MM-DD)`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (formatUtcDate(ms) !== date) throw new RangeError(`Invalid date: ${JSON.stringify(date)}`);
  return ms;
}

/**
 * Days since 1970-01-01 of a date already known to be valid (read from the database or made
 * by formatUtcDate): no round-trip check, for loops over many thousands of days.
 */
export function dayNumberOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

/** The UTC calendar date of a millisecond value, as 'YYYY-MM-DD'. */
export function formatUtcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  return formatUtcDate(dateToUtcMs(date) + n * DAY_MS);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dateToUtcMs(to) - dateToUtcMs(from)) / DAY_MS);
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(dateToUtcMs(date)).getUTCDay();
  return d === 0 ? 7 : d;
}

/** Every date from `from` to `to`, both included; empty when `from` > `to`. */
export function eachDate(from: string, to: string): string[] {
  const out: string[] = [];
  const end = dateToUtcMs(to);
  for (let ms = dateToUtcMs(from); ms <= end; ms += DAY_MS) out.push(formatUtcDate(ms));
  return out;
}

/** Monday of the ISO week holding `date`. */
export function startOfIsoWeek(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

export function startOfMonth(date: string): string {
  dateToUtcMs(date);
  return `${date.slice(0, 8)}01`;
}

export function endOfMonth(date: string): string {
  const ms = dateToUtcMs(date);
  const d = new Date(ms);
  // Day 0 of the next month is the last day of this one.
  return formatUtcDate(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
}
