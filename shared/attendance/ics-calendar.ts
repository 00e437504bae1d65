// Reads an iCalendar file (RFC 5545, the format education authorities publish holidays in)
// into dated ranges keyed by UID, with ical.js (Mozilla's parser: no dependencies, recurrence
// rules and time zones handled). Pure: deciding what the ranges mean is the caller's job.
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
}

export interface IcsSkipped {
  uid: string | null;
  label: string | null;
  reason: 'cancelled' | 'no_start' | 'ends_before_start' | 'too_many_occurrences';
}

export class IcsError extends Error {}

/** Most events (occurrences included) one file may yield. */
export const MAX_ICS_EVENTS = 2_000;
/** Occurrences of a recurring event are expanded over this many years from its start. */
const RECURRENCE_YEARS = 5;

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
 * Every event of the file as a range of local dates. `timezone` places UTC date-times (a
 * holiday published as 2025-12-19T23:00:00Z starts on the 20th in Paris).
 */
export function readIcs(text: string, timezone: string): { calendarName: string | null; ranges: IcsRange[]; skipped: IcsSkipped[] } {
  let root: ICAL.Component;
  try {
    const parsed = ICAL.parse(text);
    root = new ICAL.Component(Array.isArray(parsed[0]) ? parsed[0] : parsed);
  } catch (err) {
    throw new IcsError(`not an iCalendar file: ${(err as Error).message}`);
  }
  if (root.name !== 'vcalendar') throw new IcsError('not an iCalendar file: expected BEGIN:VCALENDAR');
  const ranges: IcsRange[] = [];
  const skipped: IcsSkipped[] = [];
  for (const component of root.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(component);
    const label = (event.summary ?? '').trim().slice(0, 200) || 'Unnamed event';
    const uid = event.uid ? String(event.uid).slice(0, 255) : null;
    if (String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED') {
      skipped.push({ uid, label, reason: 'cancelled' });
      continue;
    }
    if (!component.hasProperty('dtstart')) {
      skipped.push({ uid, label, reason: 'no_start' });
      continue;
    }
    const start = event.startDate;
    const end = component.hasProperty('dtend') || component.hasProperty('duration') ? event.endDate : null;
    const startsOn = dateOf(start, timezone);
    if (end !== null && end.compare(start) < 0) {
      skipped.push({ uid, label, reason: 'ends_before_start' });
      continue;
    }
    const span = end === null ? 0 : Math.max(0, daysFrom(startsOn, lastDayOf(start, end, timezone)));
    // No UID (RFC 5545 requires one, some exports omit it): the content keys the entry instead.
    const key = uid ?? `no-uid:${startsOn}:${label}`;
    if (!event.isRecurring()) {
      ranges.push({ uid: key, label, startsOn, endsOn: addDays(startsOn, span) });
    } else {
      const it = event.iterator();
      const until = addDays(startsOn, RECURRENCE_YEARS * 366);
      for (let next = it.next(); next; next = it.next()) {
        const first = dateOf(next, timezone);
        if (first > until) break;
        if (ranges.length >= MAX_ICS_EVENTS) break;
        ranges.push({ uid: `${key}/${first}`.slice(0, 255), label, startsOn: first, endsOn: addDays(first, span) });
      }
    }
    if (ranges.length >= MAX_ICS_EVENTS) {
      skipped.push({ uid, label, reason: 'too_many_occurrences' });
      break;
    }
  }
  const name = root.getFirstPropertyValue('x-wr-calname');
  return { calendarName: typeof name === 'string' ? name : null, ranges, skipped };
}

function daysFrom(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
