// Fuzzing the calendar import (issue 33 §7; the 250-byte file that hung the api, §1): iCalendar
// files built from RFC 5545's pieces (dates valid and not, recurrence rules of every part, huge
// intervals, time zones, exceptions), read as the api reads them. Each is read or refused with
// an IcsError, within the file's time budget plus margin: a property that hangs fails by jest's
// timeout, one that is slow by the bound below. The files that once broke the import are the
// fixed examples (test/support/ics-samples.ts).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { ICS_LIMITS, IcsError, readIcs } from '../../shared/attendance/ics-calendar.js';
import { HOSTILE_ICS, MALFORMED_ICS } from '../support/ics-samples.js';
import { params, RUNS } from './runs.js';

const CRLF = '\r\n';
const date = fc.tuple(fc.integer({ min: 1890, max: 3010 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
  .map(([y, m, d]) => `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`);
const dateTime = fc.tuple(date, fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.boolean())
  .map(([d, h, m, utc]) => `${d}T${String(h).padStart(2, '0')}${String(m).padStart(2, '0')}00${utc ? 'Z' : ''}`);
const when = fc.oneof(date.map((d) => `;VALUE=DATE:${d}`), dateTime.map((t) => `:${t}`), dateTime.map((t) => `;TZID=Europe/Paris:${t}`), fc.constantFrom(':', ':garbage', ';VALUE=DATE:2027-01-01'));
const rulePart = fc.oneof(
  fc.constantFrom('SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY', 'FORTNIGHTLY').map((f) => `FREQ=${f}`),
  fc.oneof(fc.integer({ min: -2, max: 400 }), fc.constantFrom(999_999_999, 2 ** 31)).map((n) => `INTERVAL=${n}`),
  fc.integer({ min: -1, max: 100_000 }).map((n) => `COUNT=${n}`),
  fc.array(fc.integer({ min: -1, max: 14 }), { minLength: 1, maxLength: 3 }).map((a) => `BYMONTH=${a.join(',')}`),
  fc.array(fc.integer({ min: -32, max: 32 }), { minLength: 1, maxLength: 3 }).map((a) => `BYMONTHDAY=${a.join(',')}`),
  fc.array(fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU', '1MO', '-1FR', '53SU', 'XX'), { minLength: 1, maxLength: 3 }).map((a) => `BYDAY=${a.join(',')}`),
  fc.array(fc.integer({ min: -370, max: 370 }), { minLength: 1, maxLength: 2 }).map((a) => `BYYEARDAY=${a.join(',')}`),
  fc.array(fc.integer({ min: -54, max: 54 }), { minLength: 1, maxLength: 2 }).map((a) => `BYWEEKNO=${a.join(',')}`),
  fc.array(fc.integer({ min: -400, max: 400 }), { minLength: 1, maxLength: 2 }).map((a) => `BYSETPOS=${a.join(',')}`),
  fc.array(fc.integer({ min: -1, max: 61 }), { minLength: 1, maxLength: 3 }).map((a) => `BYHOUR=${a.join(',')}`),
  dateTime.map((t) => `UNTIL=${t}`),
  fc.constantFrom('WKST=SU', 'WKST=ZZ', 'X-NAME=1', '=', ''),
);
const event = fc.record({
  uid: fc.oneof(fc.constant('e@test'), fc.string({ maxLength: 12 })),
  start: fc.option(when, { nil: null }),
  end: fc.option(fc.oneof(when, fc.constantFrom('DURATION:P1D', 'DURATION:P9999999D', 'DURATION:-P1D', 'DURATION:PT1H', 'DURATION:bogus')), { nil: null }),
  rule: fc.option(fc.array(rulePart, { minLength: 1, maxLength: 5 }).map((p) => `RRULE:${p.join(';')}`), { nil: null }),
  extra: fc.array(fc.oneof(date.map((d) => `EXDATE;VALUE=DATE:${d}`), date.map((d) => `RDATE;VALUE=DATE:${d}`),
    fc.constantFrom('STATUS:CANCELLED', 'SUMMARY:Vacances de Noël', 'SUMMARY:', 'CATEGORIES:HOLIDAY', 'X-\u0000:x')), { maxLength: 3 }),
}).map((e) => [
  'BEGIN:VEVENT', `UID:${e.uid}`, 'SUMMARY:Holiday',
  ...(e.start === null ? [] : [`DTSTART${e.start}`]),
  ...(e.end === null ? [] : [e.end.startsWith('DURATION') ? e.end : `DTEND${e.end}`]),
  ...(e.rule === null ? [] : [e.rule]), ...e.extra, 'END:VEVENT',
].join(CRLF));
const icsFile = fc.tuple(fc.array(event, { maxLength: 4 }), fc.boolean(), fc.constantFrom('', 'BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nRRULE:FREQ=SECONDLY\r\nEND:STANDARD\r\nEND:VTIMEZONE'))
  .map(([events, closed, zone]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//fuzz//EN', ...(zone ? [zone] : []), ...events, ...(closed ? ['END:VCALENDAR'] : [])].join(CRLF));

/** Reads a file as the route does; answers how long it took. */
function read(text: string): number {
  const started = performance.now();
  try {
    readIcs(text, 'Europe/Paris');
  } catch (err) {
    if (!(err instanceof IcsError)) throw err;
  }
  return performance.now() - started;
}

describe('calendar files', () => {
  test('every generated file is read or refused with an IcsError, within the time budget', () => {
    // The budget refuses a file past ICS_LIMITS.timeMs; a machine under load may add some margin.
    const bound = ICS_LIMITS.timeMs * 4;
    const examples = [...MALFORMED_ICS, ...HOSTILE_ICS].map((s): [string] => [s.text]);
    fc.assert(fc.property(fc.oneof(icsFile, fc.string({ maxLength: 400 })), (text) => {
      expect(read(text)).toBeLessThan(bound);
    }), params(examples, Math.max(500, Math.round(RUNS / 3))));
  }, 120_000);
});
