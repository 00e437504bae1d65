// Reading published iCalendar files into dated ranges: exclusive DTEND, UTC times placed on
// the school's local days, recurrence expanded, cancelled events skipped, garbage refused.
import { readFileSync } from 'node:fs';
import { IcsError, readIcs } from '../../../shared/attendance/ics-calendar.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/calendars/${name}`, import.meta.url), 'utf8');
const wrap = (...events: string[][]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', ...events.flatMap((e) => ['BEGIN:VEVENT', ...e, 'END:VEVENT']), 'END:VCALENDAR', ''].join('\r\n');

test('the zone C school holidays: all-day events end the day before DTEND, across months and years', () => {
  const { calendarName, ranges, skipped } = readIcs(fixture('fr-school-holidays-2025-2026-zone-c.ics'), 'Europe/Paris');
  expect(calendarName).toBe('Calendrier scolaire 2025-2026 - Zone C');
  expect(skipped).toEqual([]);
  expect(ranges.map((r) => [r.label, r.startsOn, r.endsOn])).toEqual([
    ['Vacances de la Toussaint - Zone C', '2025-10-18', '2025-11-02'],
    ['Vacances de Noël - Zone C', '2025-12-20', '2026-01-04'],
    ["Vacances d'Hiver - Zone C", '2026-02-21', '2026-03-08'],
    ['Vacances de Printemps - Zone C', '2026-04-18', '2026-05-03'],
    ["Pont de l'Ascension - Zone C", '2026-05-14', '2026-05-17'],
    ["Vacances d'Été - Zone C", '2026-07-04', '2026-08-31'],
  ]);
  expect(ranges[0].uid).toBe('2025-2026-toussaint-zone-c@calendrier-scolaire');
});

test('public holidays: one day each', () => {
  const { ranges } = readIcs(fixture('fr-public-holidays-2025-2026.ics'), 'Europe/Paris');
  expect(ranges).toHaveLength(11);
  expect(ranges.every((r) => r.startsOn === r.endsOn)).toBe(true);
  expect(ranges.find((r) => r.label === 'Lundi de Pâques')?.startsOn).toBe('2026-04-06');
});

test('UTC date-times land on the school\'s local days; a date with no DTEND is one day', () => {
  const text = wrap(
    ['UID:a', 'DTSTART:20251219T230000Z', 'DTEND:20260104T230000Z', 'SUMMARY:Christmas'],
    ['UID:b', 'DTSTART;VALUE=DATE:20260501', 'SUMMARY:May Day'],
  );
  expect(readIcs(text, 'Europe/Paris').ranges.map((r) => [r.uid, r.startsOn, r.endsOn])).toEqual([['a', '2025-12-20', '2026-01-04'], ['b', '2026-05-01', '2026-05-01']]);
  expect(readIcs(text, 'UTC').ranges[0]).toMatchObject({ startsOn: '2025-12-19', endsOn: '2026-01-04' });
});

test('a recurring event becomes one range per occurrence, each with its own key; cancelled ones are skipped', () => {
  const text = wrap(
    ['UID:ny', 'DTSTART;VALUE=DATE:20260101', 'RRULE:FREQ=YEARLY;COUNT=3', 'SUMMARY:New year'],
    ['UID:gone', 'DTSTART;VALUE=DATE:20260301', 'STATUS:CANCELLED', 'SUMMARY:Cancelled'],
  );
  const { ranges, skipped } = readIcs(text, 'UTC');
  expect(ranges.map((r) => [r.uid, r.startsOn])).toEqual([['ny/2026-01-01', '2026-01-01'], ['ny/2027-01-01', '2027-01-01'], ['ny/2028-01-01', '2028-01-01']]);
  expect(skipped).toEqual([{ uid: 'gone', label: 'Cancelled', reason: 'cancelled' }]);
});

test('not an iCalendar file', () => {
  expect(() => readIcs('hello', 'UTC')).toThrow(IcsError);
  expect(() => readIcs('BEGIN:VCARD\r\nEND:VCARD\r\n', 'UTC')).toThrow(IcsError);
});
