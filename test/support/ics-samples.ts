// iCalendar files no import may choke on (issue #33): malformed ones, which the api refuses
// with a 422 (or, where the file is readable, skips the event and says why), and hostile ones,
// which hung the api's event loop inside ical.js. Shared by the unit test of readIcs and the
// api's import test.

const CRLF = '\r\n';
/** A calendar around the given content lines. */
export const calendar = (...lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join(CRLF);
/** A calendar of one event with these lines. */
export const oneEvent = (...lines: string[]) => calendar('BEGIN:VEVENT', 'UID:sample@test', 'SUMMARY:Sample', ...lines, 'END:VEVENT');

export type IcsOutcome =
  | { refused: RegExp }
  | { skipped: 'too_long' | 'recurrence_unbounded' | 'no_start' }
  | { ranges: number };

export interface IcsSample {
  name: string;
  text: string;
  outcome: IcsOutcome;
}

const date = (d: string) => `DTSTART;VALUE=DATE:${d}`;

/** 34 malformed files: none may give a 5xx, and none may be read as another date (30 February is not 2 March). */
export const MALFORMED_ICS: IcsSample[] = [
  { name: 'truncated in an event', text: calendar('BEGIN:VEVENT', 'UID:a', date('20270101')).slice(0, -'END:VCALENDAR\r\n'.length), outcome: { refused: /began but did not end/ } },
  { name: 'BEGIN:VEVENT without END', text: calendar('BEGIN:VEVENT', 'UID:a', date('20270101')), outcome: { refused: /began but did not end/ } },
  { name: 'END without BEGIN', text: 'END:VCALENDAR\r\n', outcome: { refused: /not an iCalendar file/ } },
  { name: 'a vCard', text: 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n', outcome: { refused: /expected BEGIN:VCALENDAR/ } },
  { name: 'plain text', text: 'Vacances de Noël: du 20 décembre au 4 janvier\n', outcome: { refused: /not an iCalendar file/ } },
  { name: 'a line without a colon', text: calendar('GARBAGE'), outcome: { refused: /not an iCalendar file/ } },
  { name: 'an unterminated quoted parameter', text: calendar('X-A;P="open:1'), outcome: { refused: /not an iCalendar file/ } },
  { name: 'binary (a PNG header)', text: '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR', outcome: { refused: /control character/ } },
  { name: 'U+0000 in a UID', text: calendar('BEGIN:VEVENT', 'UID:a\u0000b', date('20270101'), 'END:VEVENT'), outcome: { refused: /control character U\+0000/ } },
  { name: 'U+0000 in a summary', text: oneEvent(date('20270101'), 'SUMMARY:No\u0000school'), outcome: { refused: /control character U\+0000/ } },
  { name: 'thousands of parameters on one line', text: calendar(`X-A${';P=1'.repeat(5_000)}:x`), outcome: { refused: /more than 1000 ";"/ } },
  { name: 'DTSTART 30 February (date)', text: oneEvent(date('20270230')), outcome: { refused: /DTSTART: 2027-02-30 is not a calendar date/ } },
  { name: 'DTSTART 30 February (UTC date-time)', text: oneEvent('DTSTART:20270230T100000Z'), outcome: { refused: /2027-02-30 is not a calendar date/ } },
  { name: 'DTEND 30 February', text: oneEvent(date('20270227'), 'DTEND;VALUE=DATE:20270230'), outcome: { refused: /DTEND: 2027-02-30 is not a calendar date/ } },
  { name: 'month 13', text: oneEvent(date('20271301')), outcome: { refused: /2027-13-01 is not a calendar date/ } },
  { name: 'day 0', text: oneEvent(date('20270100')), outcome: { refused: /2027-01-00 is not a calendar date/ } },
  { name: 'hour 25', text: oneEvent('DTSTART:20270101T250000'), outcome: { refused: /not a time of day/ } },
  { name: 'letters for a date', text: oneEvent(date('hello')), outcome: { refused: /not a date/ } },
  { name: 'a year alone', text: oneEvent('DTSTART:2027'), outcome: { refused: /not a date/ } },
  { name: 'year 9999', text: oneEvent('DTSTART:99991231T235959Z'), outcome: { refused: /year 9999 is out of range/ } },
  { name: 'DTSTART as a period', text: oneEvent('DTSTART;VALUE=PERIOD:20270101T100000Z/20270102T100000Z'), outcome: { refused: /VALUE=PERIOD is not a date/ } },
  { name: 'DURATION garbage', text: oneEvent(date('20270101'), 'DURATION:soon'), outcome: { refused: /duration/ } },
  { name: 'RRULE garbage', text: oneEvent(date('20270101'), 'RRULE:garbage'), outcome: { refused: /event "sample@test"|not an iCalendar file/ } },
  { name: 'RRULE unknown frequency', text: oneEvent(date('20270101'), 'RRULE:FREQ=FORTNIGHTLY'), outcome: { refused: /invalid frequency/ } },
  { name: 'RRULE BYMONTHDAY=0', text: oneEvent(date('20270101'), 'RRULE:FREQ=MONTHLY;BYMONTHDAY=0'), outcome: { refused: /BYMONTHDAY=0 is out of range/ } },
  { name: 'RRULE BYMONTH=13', text: oneEvent(date('20270101'), 'RRULE:FREQ=YEARLY;BYMONTH=13'), outcome: { refused: /BYMONTH/ } },
  { name: 'RRULE ninth Monday', text: oneEvent(date('20270101'), 'RRULE:FREQ=MONTHLY;BYDAY=9MO'), outcome: { refused: /event "sample@test"/ } },
  { name: 'RRULE BYYEARDAY in a daily rule', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;BYYEARDAY=1'), outcome: { refused: /BYYEARDAY may only appear in YEARLY rules/ } },
  { name: 'RRULE negative COUNT', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;COUNT=-5'), outcome: { refused: /COUNT must be a positive whole number/ } },
  { name: 'RRULE UNTIL 30 February', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;UNTIL=20270230'), outcome: { refused: /UNTIL: 2027-02-30 is not a calendar date/ } },
  { name: 'RDATE day 99', text: oneEvent(date('20270101'), 'RDATE;VALUE=DATE:20271299'), outcome: { refused: /RDATE: 2027-12-99 is not a calendar date/ } },
  { name: 'EXDATE garbage', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;VALUE=DATE:garbage'), outcome: { refused: /EXDATE: not a date/ } },
  { name: 'a DURATION of two million years', text: oneEvent(date('20270101'), 'DURATION:P99999999W'), outcome: { skipped: 'too_long' } },
  { name: 'a 900 KB description (long, but readable)', text: oneEvent(date('20270101'), `DESCRIPTION:${'x'.repeat(900_000)}`), outcome: { ranges: 1 } },
];

/** The file of issue #33 (250 bytes, `dry_run=true` too): 162 s of CPU in the api, every other request timed out. */
export const FEBRUARY_30_RULE = calendar(
  'BEGIN:VEVENT', 'UID:feb30@school.test', 'DTSTART;VALUE=DATE:20270201', 'DTEND;VALUE=DATE:20270202',
  'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'SUMMARY:Journée pédagogique', 'END:VEVENT',
);

/** Files that spin ical.js's recurrence iteration (inside one next() call) or its date arithmetic. */
export const HOSTILE_ICS: IcsSample[] = [
  { name: 'issue #33: DAILY on 30 February', text: FEBRUARY_30_RULE, outcome: { refused: /BYMONTHDAY=30 is no day of BYMONTH=2: the rule can never occur/ } },
  { name: 'HOURLY on 31 April', text: oneEvent('DTSTART:20270101T080000Z', 'RRULE:FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31'), outcome: { refused: /the rule can never occur/ } },
  // Stepped one day at a time: about 4.5 minutes in the api for an INTERVAL like this one.
  { name: 'DAILY with a huge INTERVAL', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;INTERVAL=2000000000'), outcome: { ranges: 1 } },
  { name: 'WEEKLY with a huge INTERVAL', text: oneEvent(date('20270101'), 'RRULE:FREQ=WEEKLY;INTERVAL=2000000000;BYDAY=MO'), outcome: { ranges: 1 } },
  // Added to the seconds at once, then normalized by ical.js one month at a time.
  { name: 'SECONDLY with a huge INTERVAL', text: oneEvent('DTSTART:20270101T080000Z', 'RRULE:FREQ=SECONDLY;INTERVAL=999999999999999'), outcome: { ranges: 1 } },
  // Possible, but not before 2044: the horizon ends the search.
  { name: 'DAILY on a Monday 29 February', text: oneEvent(date('20270101'), 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO'), outcome: { ranges: 1 } },
  { name: 'MINUTELY on a Monday 29 February', text: oneEvent('DTSTART:20270101T080000Z', 'RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO'), outcome: { skipped: 'recurrence_unbounded' } },
  { name: 'HOURLY for five years', text: oneEvent('DTSTART:20270101T080000', 'RRULE:FREQ=HOURLY'), outcome: { skipped: 'recurrence_unbounded' } },
  // A time zone the file defines, with a rule that never occurs: ical.js expands it to place a TZID time.
  {
    name: 'a VTIMEZONE on 30 February',
    text: calendar(
      'BEGIN:VTIMEZONE', 'TZID:Nowhere', 'BEGIN:STANDARD', 'DTSTART:16010101T000000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200',
      'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'END:STANDARD', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:tz@test', 'DTSTART;TZID=Nowhere:20270105T100000', 'DTEND;TZID=Nowhere:20270105T120000', 'SUMMARY:Meeting', 'END:VEVENT',
    ),
    outcome: { ranges: 1 },
  },
  // 9 000 events (under the api's 1 MB), each a possible rule whose search runs to the horizon
  // (about 2 000 steps): far more than the file's time.
  {
    name: 'a megabyte of leap-day rules',
    text: calendar(...Array.from({ length: 9_000 }, (_, i) => `BEGIN:VEVENT\r\nUID:e${i}\r\n${date('20270101')}\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29\r\nEND:VEVENT`)),
    outcome: { refused: /takes more than 500 ms to read/ },
  },
];
