// Reads an iCalendar file (RFC 5545, the format education authorities publish holidays in)
// into dated ranges keyed by UID, with ical.js (Mozilla's parser: no dependencies, recurrence
// rules handled). Pure: deciding what the ranges mean is the caller's job.
//
// The file is untrusted (a school admin uploads it) and read on the api's event loop, so no
// input may make reading it unbounded (issue #33; docs/CALENDAR.md "Limits"):
// - before ical.js sees it: no control characters, at most ICS_LIMITS.maxLineParameters ';'
//   in a content line (ical.js parses parameters in quadratic time: 1 MB of ";P=1", 2.6 s);
// - every date is checked as written (ical.js rolls 30 February over into 2 March), in
//   MIN_YEAR-MAX_YEAR; a DURATION is measured before ical.js adds it a month at a time;
// - VTIMEZONE definitions are dropped: a TZID time is read as written, so they are never
//   needed, and ical.js would expand their recurrence rules, unbounded, to place one;
// - a recurrence rule's parts are checked (in range; a BYMONTHDAY that exists in its
//   BYMONTH), then ical.js's RecurIterator expands it within three bounds, whichever comes
//   first: the horizon (ICS_LIMITS.recurrenceYears from the event's start: ical.js's next()
//   otherwise searches, inside one call, forever for a date the rule cannot reach, and adds a
//   huge INTERVAL a day at a time), ICS_LIMITS.recurrenceSteps per event (the event is then
//   skipped as recurrence_unbounded) and ICS_LIMITS.timeMs of CPU time for the file (the file
//   is then refused);
// - whatever ical.js throws becomes an IcsError (the api's 422), never another error.
import ICAL from 'ical.js';
import { addDays, isValidDate } from '../time/calendar.js';
import { localDateOf } from '../time/zoned.js';

export interface IcsRange {
  /** The event's UID; an occurrence of a recurring event gets `<UID>/<first day>`. */
  uid: string;
  label: string;
  /** 'YYYY-MM-DD', both included. */
  startsOn: string;
  endsOn: string;
  /** The event's CATEGORIES, as written (trimmed, at most 10 of 100 characters): what kind of day it is. */
  categories: string[];
}

export type IcsSkipReason =
  | 'cancelled' | 'no_start' | 'ends_before_start' | 'too_long' | 'too_many_occurrences' | 'recurrence_unbounded';

export interface IcsSkipped {
  uid: string | null;
  label: string | null;
  reason: IcsSkipReason;
}

/** The file cannot be read (the caller answers 422 with the message). */
export class IcsError extends Error {}

export interface IcsLimits {
  /** Most events (occurrences included) one file may yield; the event reaching it is skipped as too_many_occurrences, later ones are not read. */
  maxEvents: number;
  /** Occurrences of a recurring event are expanded over this many years from its start. */
  recurrenceYears: number;
  /**
   * Steps one recurring event's expansion may take (candidate dates ical.js tries, years,
   * occurrences); beyond: skipped as recurrence_unbounded. Five years of a daily rule take
   * about 3 700, of a weekday one 2 600, of an hourly one 88 000. A step costs ical.js 1 to
   * 25 µs: 10 000 of them stay well inside timeMs.
   */
  recurrenceSteps: number;
  /** Longest event in days (last day minus first day, as the api's entries): longer ones are skipped as too_long. */
  maxEntryDays: number;
  /** CPU time one file may take of the thread reading it, in milliseconds; beyond it the file is refused. */
  timeMs: number;
  /** Most ';' in one (unfolded) content line. */
  maxLineParameters: number;
}

export const ICS_LIMITS: Readonly<IcsLimits> = Object.freeze({
  maxEvents: 2_000,
  recurrenceYears: 5,
  recurrenceSteps: 10_000,
  maxEntryDays: 400,
  timeMs: 500,
  maxLineParameters: 1_000,
});

/** Most events (occurrences included) one file may yield. */
export const MAX_ICS_EVENTS = ICS_LIMITS.maxEvents;

/** Dates outside these years are refused: no calendar needs them, and they keep date arithmetic in range. */
const MIN_YEAR = 1900;
const MAX_YEAR = 2999;

type StopReason = 'horizon' | 'steps' | 'time';
/** Thrown from inside ical.js's iteration to end it: the horizon passed, the steps or the time spent. */
class Stop extends Error {
  constructor(readonly why: StopReason) {
    super(`recurrence expansion stopped: ${why}`);
  }
}

/**
 * The budget's clock: the CPU time of this thread, in milliseconds. On the wall clock, the time
 * other processes took the cores counted against the file: under a full test run, an hourly
 * rule that is skipped in a tenth of the budget on a quiet machine had its file refused.
 */
function cpuMs(): number {
  const used = process.threadCpuUsage();
  return (used.user + used.system) / 1000;
}

/** Steps between two readings of the clock (a reading is a system call, about 1 µs). */
const STEPS_PER_READING = 16;

/** What one file may still spend: CPU time for the file (`deadline`, on cpuMs), steps per recurring event. */
class Budget {
  steps = 0;
  private unread = 0;
  constructor(private readonly deadline: number, private readonly maxSteps: number) {}

  checkTime(): void {
    this.unread = 0;
    if (cpuMs() > this.deadline) throw new Stop('time');
  }

  spend(n: number): void {
    this.steps += n;
    if (this.steps > this.maxSteps) throw new Stop('steps');
    this.unread += n;
    if (this.unread >= STEPS_PER_READING) this.checkTime();
  }
}

/**
 * ical.js's RecurIterator, bounded. Its next() loops, inside one call, over candidate dates
 * until one passes the rule's limiting parts (check_contracting_rules): each candidate and
 * each year costs a step, and a candidate, an increment or a year past the horizon ends the
 * iteration. The methods overridden are those every step of every frequency goes through
 * (ical.js 2.2, lib/ical/recur_iterator.js); test/unit/attendance/ics-calendar.test.ts holds
 * the rules that hang without them, to be run again on an upgrade.
 */
function boundedIterator(rule: ICAL.Recur, dtstart: ICAL.Time, budget: Budget, horizon: { year: number; month: number; days: number }): ICAL.RecurIterator {
  const lastMonth = horizon.year * 12 + horizon.month + 1; // a month's margin: a candidate may step back within a week
  class Bounded extends ICAL.RecurIterator {
    override check_contracting_rules(): boolean {
      budget.spend(1);
      if (this.last.year * 12 + this.last.month > lastMonth) throw new Stop('horizon');
      return super.check_contracting_rules();
    }

    // A sub-daily INTERVAL is added to the time's field at once and normalized by ical.js's
    // Time.adjust one month at a time: FREQ=SECONDLY;INTERVAL=999999999999999 took 17 s.
    override increment_second(inc: number): void {
      if (!(inc / 86_400 <= horizon.days)) throw new Stop('horizon');
      super.increment_second(inc);
    }

    override increment_minute(inc: number): void {
      if (!(inc / 1_440 <= horizon.days)) throw new Stop('horizon');
      super.increment_minute(inc);
    }

    override increment_hour(inc: number): void {
      if (!(inc / 24 <= horizon.days)) throw new Stop('horizon');
      super.increment_hour(inc);
    }

    // Steps a DAILY or WEEKLY INTERVAL one day at a time: one past the whole horizon (or NaN)
    // ends the iteration. Smaller ones need no count: the days stepped over, together, are
    // about the horizon, since candidates only move forward.
    override increment_monthday(inc: number): void {
      if (!(inc <= horizon.days)) throw new Stop('horizon');
      super.increment_monthday(inc);
    }

    override increment_year(inc: number): void {
      if (!(this.last.year + inc <= horizon.year + 1)) throw new Stop('horizon');
      budget.spend(1);
      super.increment_year(inc);
    }
  }
  return new Bounded({ rule, dtstart });
}

/** Refuses control characters (binary data, U+0000, which PostgreSQL cannot store) and lines with too many parameters. */
function checkText(text: string, maxParameters: number): void {
  let line = 1;
  let semicolons = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      const next = text.charCodeAt(i + 1);
      if (next !== 32 && next !== 9) semicolons = 0; // a folded line continues the content line
    } else if (c === 59) {
      if (++semicolons > maxParameters) throw new IcsError(`line ${line}: more than ${maxParameters} ";" in one content line`);
    } else if ((c < 32 && c !== 9 && c !== 13) || c === 127) {
      throw new IcsError(`line ${line}: control character U+${c.toString(16).padStart(4, '0').toUpperCase()} (not a text file)`);
    }
  }
}

const RAW_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z?)?$/;

/** A date or date-time as the file wrote it (jCal, before ical.js normalizes 30 February into March). */
function checkRawTime(raw: unknown, what: string): void {
  const m = typeof raw === 'string' ? RAW_TIME.exec(raw) : null;
  if (!m) throw new IcsError(`${what}: not a date or date-time: ${JSON.stringify(raw)?.slice(0, 40)}`);
  const [, y, mo, d, h, mi, s] = m;
  if (!isValidDate(`${y}-${mo}-${d}`)) throw new IcsError(`${what}: ${y}-${mo}-${d} is not a calendar date`);
  if (Number(y) < MIN_YEAR || Number(y) > MAX_YEAR) throw new IcsError(`${what}: the year ${y} is out of range (${MIN_YEAR}-${MAX_YEAR})`);
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60)) throw new IcsError(`${what}: ${h}:${mi}:${s} is not a time of day`);
}

/** Every value of a date property (DTSTART, DTEND, RDATE, EXDATE), as written. */
function checkDateProperty(prop: ICAL.Property, what: string, allowPeriod = false): void {
  const [, , type, ...values] = prop.toJSON() as [string, unknown, string, ...unknown[]];
  for (const value of values) {
    if (type === 'date' || type === 'date-time') {
      checkRawTime(value, what);
    } else if (type === 'period' && allowPeriod && Array.isArray(value)) {
      checkRawTime(value[0], what);
      if (typeof value[1] !== 'string' || !/^[+-]?P/.test(value[1])) checkRawTime(value[1], what);
    } else {
      throw new IcsError(`${what}: VALUE=${String(type).toUpperCase()} is not a date`);
    }
  }
}

const PART_RANGES: Record<string, [number, number, boolean]> = {
  // part: [min, max, may be negative]
  BYSECOND: [0, 60, false], BYMINUTE: [0, 59, false], BYHOUR: [0, 23, false], BYMONTH: [1, 12, false],
  BYMONTHDAY: [1, 31, true], BYYEARDAY: [1, 366, true], BYWEEKNO: [1, 53, true], BYSETPOS: [1, 366, true],
};
const BYDAY = /^([+-]?(?:[1-9]|[1-4][0-9]|5[0-3]))?(MO|TU|WE|TH|FR|SA|SU)$/;
/** The longest each month can be (February 29). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A rule's parts in range, and one that can occur (BYMONTH=2;BYMONTHDAY=30 cannot). */
function checkRule(prop: ICAL.Property, rule: ICAL.Recur, what: string): void {
  const raw = (prop.toJSON() as unknown[])[3] as { until?: unknown } | undefined;
  if (raw?.until !== undefined) checkRawTime(raw.until, `${what} UNTIL`);
  if (!Number.isInteger(rule.interval) || rule.interval < 1) throw new IcsError(`${what}: INTERVAL must be a positive whole number`);
  if (rule.count !== null && rule.count !== undefined && (!Number.isInteger(rule.count) || rule.count < 1)) throw new IcsError(`${what}: COUNT must be a positive whole number`);
  const parts = rule.parts as Record<string, unknown[]>;
  for (const [part, values] of Object.entries(parts)) {
    if (part === 'BYDAY') {
      for (const v of values) if (typeof v !== 'string' || !BYDAY.test(v)) throw new IcsError(`${what}: BYDAY=${String(v).slice(0, 20)} is not a weekday`);
      continue;
    }
    const range = PART_RANGES[part];
    if (!range) throw new IcsError(`${what}: unknown part ${part.slice(0, 20)}`);
    const [min, max, negative] = range;
    for (const v of values) {
      const n = Number(v);
      if (!Number.isInteger(n) || Math.abs(n) < min || Math.abs(n) > max || (n < 0 && !negative)) throw new IcsError(`${what}: ${part}=${String(v).slice(0, 20)} is out of range`);
    }
  }
  if (parts.BYMONTHDAY) {
    const months = (parts.BYMONTH ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).map(Number);
    const longest = Math.max(...months.map((m) => MONTH_DAYS[m - 1]));
    if (parts.BYMONTHDAY.every((d) => Math.abs(Number(d)) > longest)) {
      throw new IcsError(`${what}: BYMONTHDAY=${parts.BYMONTHDAY.join(',')} is no day of BYMONTH=${months.join(',')}: the rule can never occur`);
    }
  }
}

/**
 * Whether an occurrence ical.js produced is a day the rule names: its arithmetic rolls a day
 * that does not exist over into the next month (30 February comes out as 2 March), and RFC
 * 5545 §3.3.10 says such instances are ignored.
 */
function onNamedDay(rule: ICAL.Recur, t: ICAL.Time): boolean {
  const parts = rule.parts as Record<string, unknown[]>;
  if (parts.BYMONTH && !parts.BYMONTH.map(Number).includes(t.month)) return false;
  if (parts.BYMONTHDAY) {
    const length = ICAL.Time.daysInMonth(t.month, t.year);
    if (!parts.BYMONTHDAY.map(Number).some((d) => (d > 0 ? d : length + d + 1) === t.day)) return false;
  }
  return true;
}

function dateOf(t: ICAL.Time, timezone: string): string {
  // A UTC time (…Z) is placed in the school's zone; a floating or TZID time is read as written.
  if (!t.isDate && t.zone === ICAL.Timezone.utcTimezone) return localDateOf(t.toJSDate(), timezone);
  const d = `${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
  if (!isValidDate(d)) throw new IcsError(`not a calendar date: ${t.toString()}`);
  return d;
}

/** The last day an event covers: DTEND is exclusive (a date-time ending at midnight ends the day before). */
function lastDayOf(start: ICAL.Time, end: ICAL.Time | null, timezone: string): string {
  const first = dateOf(start, timezone);
  if (end === null) return first;
  let last: string;
  if (!end.isDate && end.zone === ICAL.Timezone.utcTimezone) {
    last = localDateOf(end.toJSDate().getTime() - 1, timezone);
  } else {
    const exclusive = end.isDate || (end.hour === 0 && end.minute === 0 && end.second === 0);
    last = exclusive ? addDays(dateOf(end, timezone), -1) : dateOf(end, timezone);
  }
  return last < first ? first : last;
}

/**
 * The first days of a recurring event's occurrences, sorted and distinct: DTSTART, each
 * RRULE's occurrences up to the horizon, RDATEs, less EXDATEs; at most `room` of them
 * (the caller says too_many_occurrences when it gets more). 'unbounded' when a rule spent
 * its steps before reaching the horizon.
 */
function occurrenceDays(component: ICAL.Component, start: ICAL.Time, timezone: string, opts: { room: number; limits: IcsLimits; deadline: number; what: string }): string[] | 'unbounded' {
  const { limits, what } = opts;
  const startsOn = dateOf(start, timezone);
  const until = addDays(startsOn, limits.recurrenceYears * 366);
  const horizon = { year: Number(until.slice(0, 4)), month: Number(until.slice(5, 7)), days: limits.recurrenceYears * 366 + 62 };
  const budget = new Budget(opts.deadline, limits.recurrenceSteps); // for all the event's rules
  // An EXDATE date excludes every occurrence that day, a date-time the one at that instant.
  const excludedDays = new Set<string>();
  const excludedTimes = new Set<number>();
  for (const prop of component.getAllProperties('exdate')) {
    checkDateProperty(prop, `${what} EXDATE`);
    for (const x of prop.getValues() as ICAL.Time[]) {
      if (x.isDate) excludedDays.add(x.toString());
      else excludedTimes.add(x.toUnixTime());
    }
    budget.checkTime();
  }
  const isExcluded = (t: ICAL.Time) => excludedDays.has(`${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`)
    || (!t.isDate && excludedTimes.has(t.toUnixTime()));
  // Enough days to fill the room whatever the EXDATEs take away.
  const wanted = opts.room + excludedDays.size + excludedTimes.size + 1;
  const days = new Set<string>();
  const add = (t: ICAL.Time, day = dateOf(t, timezone)) => {
    if (day <= until && !isExcluded(t)) days.add(day);
  };
  add(start); // DTSTART is always the first instance (RFC 5545 §3.8.5.3)

  for (const prop of component.getAllProperties('rrule')) {
    const rule = prop.getFirstValue() as ICAL.Recur;
    checkRule(prop, rule, `${what} RRULE`);
    const found = new Set<string>();
    try {
      const it = boundedIterator(rule, start, budget, horizon);
      for (let next = it.next(); next && found.size < wanted; next = it.next()) {
        budget.spend(1); // an occurrence costs a step too: FREQ=HOURLY yields 24 a day
        if (next.year > horizon.year + 1) break;
        if (!onNamedDay(rule, next)) continue;
        const day = dateOf(next, timezone);
        if (day > until) break;
        found.add(day);
        add(next, day);
      }
    } catch (err) {
      if (!(err instanceof Stop) || err.why === 'time') throw err;
      if (err.why === 'steps') return 'unbounded';
      // 'horizon': the rule has no more occurrences before it
    }
  }
  for (const prop of component.getAllProperties('rdate')) {
    checkDateProperty(prop, `${what} RDATE`, true);
    for (const v of prop.getValues()) add(v instanceof ICAL.Period ? v.start : v as ICAL.Time);
    budget.checkTime();
  }
  return [...days].sort().slice(0, wanted);
}

/**
 * Every event of the file as a range of local dates. `timezone` places UTC date-times (a
 * holiday published as 2025-12-19T23:00:00Z starts on the 20th in Paris). Throws IcsError
 * when the file cannot be read; skips (and says why) the events it does not take.
 */
export function readIcs(text: string, timezone: string, options: Partial<IcsLimits> = {}): { calendarName: string | null; ranges: IcsRange[]; skipped: IcsSkipped[] } {
  const limits: IcsLimits = { ...ICS_LIMITS, ...options };
  const deadline = cpuMs() + limits.timeMs;
  const tooSlow = () => new IcsError(`the file takes more than ${limits.timeMs} ms to read: too many events or too complex recurrence rules`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as some exports write
  checkText(text, limits.maxLineParameters);
  let root: ICAL.Component;
  try {
    const parsed = ICAL.parse(text);
    root = new ICAL.Component(Array.isArray(parsed[0]) ? parsed[0] : parsed);
  } catch (err) {
    throw new IcsError(`not an iCalendar file: ${(err as Error).message.slice(0, 200)}`);
  }
  if (root.name !== 'vcalendar') throw new IcsError('not an iCalendar file: expected BEGIN:VCALENDAR');
  // TZID times are read as written: the file's time zone definitions are never needed (see the top).
  root.removeAllSubcomponents('vtimezone');
  const ranges: IcsRange[] = [];
  const skipped: IcsSkipped[] = [];
  let index = 0;
  for (const component of root.getAllSubcomponents('vevent')) {
    index++;
    if (cpuMs() > deadline) throw tooSlow();
    let uid: string | null = null;
    try {
      // No exceptions given: ical.js would otherwise scan every event of the file for its
      // RECURRENCE-ID exceptions, for each event (15 000 events took 2 s). They are not used.
      const event = new ICAL.Event(component, { exceptions: [] });
      uid = event.uid ? String(event.uid).slice(0, 255) : null;
      const label = String(event.summary ?? '').trim().slice(0, 200) || 'Unnamed event';
      const what = `event ${uid === null ? `#${index}` : JSON.stringify(uid.slice(0, 80))}`;
      const categories = categoriesOf(component);
      const skip = (reason: IcsSkipReason) => skipped.push({ uid, label, reason });
      if (String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED') {
        skip('cancelled');
        continue;
      }
      const dtstart = component.getFirstProperty('dtstart');
      if (!dtstart) {
        skip('no_start');
        continue;
      }
      checkDateProperty(dtstart, `${what} DTSTART`);
      const start = event.startDate;
      const startsOn = dateOf(start, timezone);
      let end: ICAL.Time | null = null;
      const dtend = component.getFirstProperty('dtend');
      const duration = component.getFirstPropertyValue('duration') as ICAL.Duration | null;
      if (dtend) {
        checkDateProperty(dtend, `${what} DTEND`);
        end = dtend.getFirstValue() as ICAL.Time;
      } else if (duration) {
        // ical.js adds a duration one day at a time: measure it first.
        if (!(duration instanceof ICAL.Duration)) throw new IcsError(`${what} DURATION: not a duration`);
        if (duration.isNegative && duration.toSeconds() !== 0) {
          skip('ends_before_start');
          continue;
        }
        if (Math.abs(duration.toSeconds()) > (limits.maxEntryDays + 1) * 86_400) {
          skip('too_long');
          continue;
        }
        end = event.endDate;
      }
      if (end !== null && end.compare(start) < 0) {
        skip('ends_before_start');
        continue;
      }
      const span = end === null ? 0 : Math.max(0, daysFrom(startsOn, lastDayOf(start, end, timezone)));
      if (span >= limits.maxEntryDays) {
        skip('too_long');
        continue;
      }
      // No UID (RFC 5545 requires one, some exports omit it): the content keys the entry instead.
      const key = uid ?? `no-uid:${startsOn}:${label}`;
      if (!event.isRecurring()) {
        ranges.push({ uid: key, label, startsOn, endsOn: addDays(startsOn, span), categories });
      } else {
        const room = limits.maxEvents - ranges.length;
        const days = occurrenceDays(component, start, timezone, { room, limits, deadline, what });
        if (days === 'unbounded') {
          skip('recurrence_unbounded');
          continue;
        }
        for (const first of days.slice(0, room)) {
          ranges.push({ uid: `${key}/${first}`.slice(0, 255), label, startsOn: first, endsOn: addDays(first, span), categories });
        }
      }
      if (ranges.length >= limits.maxEvents) {
        skip('too_many_occurrences');
        break;
      }
    } catch (err) {
      if (err instanceof Stop) throw tooSlow();
      if (err instanceof IcsError) throw err;
      const what = `event ${uid === null ? `#${index}` : JSON.stringify(uid.slice(0, 80))}`;
      throw new IcsError(`${what}: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    }
  }
  const name = root.getFirstPropertyValue('x-wr-calname');
  return { calendarName: typeof name === 'string' ? name : null, ranges, skipped };
}

/** CATEGORIES values (a property may repeat, each holds a comma-separated list), distinct, bounded. */
function categoriesOf(component: ICAL.Component): string[] {
  const found = new Set<string>();
  for (const prop of component.getAllProperties('categories')) {
    for (const value of prop.getValues()) {
      const text = String(value ?? '').trim().slice(0, 100);
      if (text) found.add(text);
      if (found.size >= 10) return [...found];
    }
  }
  return [...found];
}

function daysFrom(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
