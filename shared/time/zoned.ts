// Instants ↔ local days and wall-clock times in an IANA time zone, DST-correct (luxon zones).
import { IANAZone } from 'luxon';
import { dateToUtcMs, formatUtcDate } from './calendar.js';

export { addDays, isoWeekday, isValidDate, eachDate } from './calendar.js';

const DAY_MS = 86_400_000;
const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isValidTimeZone(tz: string): boolean {
  return typeof tz === 'string' && tz.length > 0 && IANAZone.isValidZone(tz);
}

/** 'HH:MM', 00:00–23:59. */
export function isValidTimeOfDay(hhmm: string): boolean {
  return HHMM_RE.test(hhmm);
}

function zoneOf(tz: string): IANAZone {
  const zone = IANAZone.create(tz); // cached by luxon
  if (!zone.isValid) throw new RangeError(`Invalid time zone: ${JSON.stringify(tz)}`);
  return zone;
}

function toMs(instant: Date | number): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Invalid instant');
  return ms;
}

/** The zone's UTC offset at an instant, in milliseconds. */
function offsetMs(zone: IANAZone, ms: number): number {
  return zone.offset(ms) * 60_000;
}

/** The local calendar date of an instant in `tz`. */
export function localDateOf(instant: Date | number, tz: string): string {
  const ms = toMs(instant);
  return formatUtcDate(ms + offsetMs(zoneOf(tz), ms));
}

/** The wall-clock time of an instant in `tz`, as the milliseconds of a UTC date reading the same (for a spreadsheet's zone-less date-times). */
export function localWallMs(instant: Date | number, tz: string): number {
  const ms = toMs(instant);
  return ms + offsetMs(zoneOf(tz), ms);
}

export function todayIn(tz: string, now: Date | number): string {
  return localDateOf(now, tz);
}

/**
 * The first instant of `date` at which the local clock in `tz` reads `hhmm` or later.
 * - Normal case: the one instant showing that wall time.
 * - Fall-back overlap (the wall time happens twice): the earlier one.
 * - Spring-forward gap (the wall time never happens, e.g. 02:30 on 2026-03-29 in Paris):
 *   the transition instant itself, when clocks jump past it (03:00 CEST). Luxon alone
 *   would answer 03:30, half an hour after clocks passed the requested time.
 */
export function localTimeOnDate(date: string, hhmm: string, tz: string): Date {
  // Recomputing a batch's user-days asks for the same few dates thousands of times.
  const key = `${tz}|${date}|${hhmm}`;
  let ms = wallTimes.get(key);
  if (ms === undefined) {
    if (wallTimes.size >= MAX_WALL_TIMES) wallTimes.clear();
    ms = resolveWallTime(date, hhmm, tz);
    wallTimes.set(key, ms);
  }
  return new Date(ms);
}

const wallTimes = new Map<string, number>();
const MAX_WALL_TIMES = 20_000;

function resolveWallTime(date: string, hhmm: string, tz: string): number {
  const m = HHMM_RE.exec(hhmm);
  if (!m) throw new RangeError(`Invalid time of day: ${JSON.stringify(hhmm)} (expected HH:MM)`);
  const zone = zoneOf(tz);
  const wall = dateToUtcMs(date) + Number(m[1]) * 3_600_000 + Number(m[2]) * 60_000;
  // Offsets a day either side bracket any transition near this wall time.
  const before = offsetMs(zone, wall - DAY_MS);
  const after = offsetMs(zone, wall + DAY_MS);
  const candidates = [wall - before, wall - after].filter((t) => wall - t === offsetMs(zone, t));
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the offset changes somewhere in (wall - after, wall - before]; find where.
  let lo = wall - after; // still on the old offset
  let hi = wall - before; // already on the new offset
  const old = offsetMs(zone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(zone, mid) === old) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instant local `date` begins in `tz` (usually local midnight; days may last 23 or 25 h). */
export function startOfLocalDay(date: string, tz: string): Date {
  return localTimeOnDate(date, '00:00', tz);
}
