// Reading published iCalendar files into dated ranges: exclusive DTEND, UTC times placed on
// the school's local days, recurrence expanded, cancelled events skipped, garbage refused;
// and no file, malformed or hostile (issue #33), read for longer than its budget.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, test } from '@jest/globals';
import { IcsError, readIcs, type IcsRange, type IcsSkipped } from '../../../shared/attendance/ics-calendar.js';
import { compiledEntry } from '../../../runtime/compiled.js';
import { HOSTILE_ICS, MALFORMED_ICS, oneEvent, type IcsOutcome } from '../../support/ics-samples.js';

const fixture = (name: string) => readFileSync(new URL(`../../support/calendars/${name}`, import.meta.url), 'utf8');
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

test('a DTSTART is the first occurrence; RDATEs add days, EXDATEs take them away', () => {
  const text = wrap(['UID:r', 'DTSTART;VALUE=DATE:20260105', 'RRULE:FREQ=WEEKLY;COUNT=3', 'RDATE;VALUE=DATE:20260201,20260301', 'EXDATE;VALUE=DATE:20260112', 'SUMMARY:Club']);
  expect(readIcs(text, 'UTC').ranges.map((r) => r.startsOn)).toEqual(['2026-01-05', '2026-01-19', '2026-02-01', '2026-03-01']);
  // Only RDATEs: DTSTART still counts (RFC 5545 §3.8.5.2).
  expect(readIcs(wrap(['UID:d', 'DTSTART;VALUE=DATE:20260105', 'RDATE;VALUE=DATE:20260107']), 'UTC').ranges.map((r) => r.startsOn)).toEqual(['2026-01-05', '2026-01-07']);
});

test('a rule\'s days that do not exist are not rolled over into the next month', () => {
  // ical.js computes 29 February 2027 as 1 March; RFC 5545 ignores such instances.
  const leap = readIcs(wrap(['UID:l', 'DTSTART;VALUE=DATE:20280229', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'SUMMARY:Leap day']), 'UTC');
  expect(leap.ranges.map((r) => r.startsOn)).toEqual(['2028-02-29', '2032-02-29']);
  const thirtieth = readIcs(wrap(['UID:m', 'DTSTART;VALUE=DATE:20270130', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=30;COUNT=3', 'SUMMARY:Month end']), 'UTC');
  expect(thirtieth.ranges.map((r) => r.startsOn)).toEqual(['2027-01-30', '2027-03-30', '2027-04-30']);
});

test('a TZID time is read as written, the file\'s time zone definitions unused; a byte order mark is fine', () => {
  const text = `\uFEFF${wrap(['UID:t', 'DTSTART;TZID=Europe/Paris:20260105T233000', 'DTEND;TZID=Europe/Paris:20260106T010000', 'SUMMARY:Late'])}`
    .replace('VERSION:2.0', 'VERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE');
  expect(readIcs(text, 'UTC').ranges).toEqual([{ uid: 't', label: 'Late', startsOn: '2026-01-05', endsOn: '2026-01-06', categories: [] }]);
});

test('an event longer than maxEntryDays is skipped as too_long, a recurring one once', () => {
  const text = wrap(
    ['UID:year', 'DTSTART;VALUE=DATE:20260101', 'DTEND;VALUE=DATE:20270301', 'SUMMARY:Too long'],
    ['UID:weekly', 'DTSTART;VALUE=DATE:20260101', 'DURATION:P30D', 'RRULE:FREQ=WEEKLY;COUNT=5', 'SUMMARY:A month each'],
    ['UID:ok', 'DTSTART;VALUE=DATE:20260101', 'DTEND;VALUE=DATE:20260111', 'SUMMARY:Ten days'],
  );
  const { ranges, skipped } = readIcs(text, 'UTC', { maxEntryDays: 20 });
  expect(ranges.map((r) => [r.uid, r.startsOn, r.endsOn])).toEqual([['ok', '2026-01-01', '2026-01-10']]);
  expect(skipped).toEqual([{ uid: 'year', label: 'Too long', reason: 'too_long' }, { uid: 'weekly', label: 'A month each', reason: 'too_long' }]);
});

test('the file\'s time budget, spent, refuses it', () => {
  expect(() => readIcs(oneEvent('DTSTART;VALUE=DATE:20260101'), 'UTC', { timeMs: -1 })).toThrow(/takes more than -1 ms/);
});

function expectOutcome(got: { ranges: IcsRange[]; skipped: IcsSkipped[] } | { error: string; message: string }, outcome: IcsOutcome): void {
  if ('refused' in outcome) {
    expect(got).toMatchObject({ error: 'IcsError', message: expect.stringMatching(outcome.refused) });
  } else if ('skipped' in outcome) {
    expect(got).toMatchObject({ ranges: [], skipped: [expect.objectContaining({ reason: outcome.skipped })] });
  } else {
    expect(got).toMatchObject({ skipped: [] });
    expect((got as { ranges: IcsRange[] }).ranges).toHaveLength(outcome.ranges);
  }
}

describe('malformed files: an IcsError saying why (the api\'s 422), or the event skipped, never another error', () => {
  test.each(MALFORMED_ICS)('$name', ({ text, outcome }) => {
    let got;
    try {
      got = readIcs(text, 'Europe/Paris');
    } catch (err) {
      got = { error: (err as Error).constructor.name, message: (err as Error).message };
    }
    expectOutcome(got, outcome);
  });
});

// Each file is read in a worker thread: without the bounds, ical.js spins inside one call
// and would block jest's own timers; here the test's timeout fails it and the worker is ended.
describe('hostile recurrence rules end within the file\'s budget', () => {
  const module = pathToFileURL(compiledEntry('shared/attendance/ics-calendar.ts')).href;
  const workers = new Set<Worker>();
  afterEach(async () => {
    await Promise.all([...workers].map((w) => w.terminate()));
    workers.clear();
  });
  const readInWorker = (text: string) => new Promise<{ ranges: IcsRange[]; skipped: IcsSkipped[] } | { error: string; message: string }>((resolve, reject) => {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(({ readIcs }) => {
        try { parentPort.postMessage(readIcs(workerData.text, 'Europe/Paris')); }
        catch (err) { parentPort.postMessage({ error: err.constructor.name, message: err.message }); }
      }, (err) => parentPort.postMessage({ error: 'import', message: String(err) }));`, { eval: true, workerData: { module, text } });
    workers.add(worker);
    worker.once('message', resolve);
    worker.once('error', reject);
  });

  test.each(HOSTILE_ICS)('$name', async ({ text, outcome }) => {
    expectOutcome(await readInWorker(text), outcome);
  }, 20_000);
});
