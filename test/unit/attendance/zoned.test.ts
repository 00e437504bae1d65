// Local days and wall-clock times in IANA zones, including DST days and gaps.
import {
  addDays,
  eachDate,
  isoWeekday,
  isValidDate,
  isValidTimeOfDay,
  isValidTimeZone,
  localDateOf,
  localTimeOnDate,
  startOfLocalDay,
  todayIn,
} from '../../../shared/time/zoned.js';
import { daysBetween, endOfMonth, startOfIsoWeek } from '../../../shared/time/calendar.js';

const HOUR = 3_600_000;

describe('localDateOf', () => {
  test.each([
    { instant: '2026-11-20T08:00:00+07:00', tz: 'Europe/Paris', date: '2026-11-20', why: 'device clock in +07:00: 02:00 in Paris' },
    { instant: '2026-11-20T03:00:00+07:00', tz: 'Europe/Paris', date: '2026-11-19', why: 'device clock in +07:00: 21:00 the day before in Paris' },
    { instant: '2026-11-19T23:00:00Z', tz: 'Europe/Paris', date: '2026-11-20', why: 'UTC 23:00 is already tomorrow in Paris' },
    { instant: '2026-11-19T22:59:59.999Z', tz: 'Europe/Paris', date: '2026-11-19', why: 'last millisecond of the Paris day' },
    { instant: '2026-07-01T22:00:00Z', tz: 'Europe/Paris', date: '2026-07-02', why: 'summer time: +02:00' },
    { instant: '2026-07-02T03:00:00Z', tz: 'America/Los_Angeles', date: '2026-07-01', why: 'west of UTC' },
    { instant: '2026-11-20T00:30:00Z', tz: 'UTC', date: '2026-11-20', why: 'UTC' },
    { instant: '2026-10-24T22:00:00Z', tz: 'Europe/Paris', date: '2026-10-25', why: 'start of the 25-hour day' },
  ])('$instant in $tz is $date ($why)', ({ instant, tz, date }) => {
    expect(localDateOf(new Date(instant), tz)).toBe(date);
    expect(localDateOf(Date.parse(instant), tz)).toBe(date);
  });

  test('rejects an unknown zone and an invalid instant', () => {
    expect(() => localDateOf(new Date(), 'Mars/Olympus')).toThrow(RangeError);
    expect(() => localDateOf(new Date('nope'), 'UTC')).toThrow(RangeError);
  });

  test('todayIn is the local date of now', () => {
    const now = new Date('2026-11-19T23:30:00Z');
    expect(todayIn('Europe/Paris', now)).toBe('2026-11-20');
    expect(todayIn('America/New_York', now)).toBe('2026-11-19');
  });
});

describe('startOfLocalDay', () => {
  test.each([
    { date: '2026-01-15', tz: 'Europe/Paris', start: '2026-01-14T23:00:00.000Z', hours: 24 },
    { date: '2026-07-15', tz: 'Europe/Paris', start: '2026-07-14T22:00:00.000Z', hours: 24 },
    { date: '2026-03-29', tz: 'Europe/Paris', start: '2026-03-28T23:00:00.000Z', hours: 23 },
    { date: '2026-10-25', tz: 'Europe/Paris', start: '2026-10-24T22:00:00.000Z', hours: 25 },
    { date: '2026-03-08', tz: 'America/New_York', start: '2026-03-08T05:00:00.000Z', hours: 23 },
    { date: '2026-11-20', tz: 'Asia/Kolkata', start: '2026-11-19T18:30:00.000Z', hours: 24 },
    { date: '2028-02-29', tz: 'UTC', start: '2028-02-29T00:00:00.000Z', hours: 24 },
  ])('$date in $tz starts at $start and lasts $hours h', ({ date, tz, start, hours }) => {
    const begins = startOfLocalDay(date, tz);
    expect(begins.toISOString()).toBe(start);
    expect(startOfLocalDay(addDays(date, 1), tz).getTime() - begins.getTime()).toBe(hours * HOUR);
    expect(localDateOf(begins, tz)).toBe(date);
    expect(localDateOf(begins.getTime() - 1, tz)).toBe(addDays(date, -1));
  });

  test('a day whose midnight does not exist starts when clocks jump (Santiago, 00:00 → 01:00)', () => {
    const begins = startOfLocalDay('2026-09-06', 'America/Santiago');
    expect(begins.toISOString()).toBe('2026-09-06T04:00:00.000Z'); // 01:00 at -03:00
    expect(localDateOf(begins, 'America/Santiago')).toBe('2026-09-06');
    expect(localDateOf(begins.getTime() - 1, 'America/Santiago')).toBe('2026-09-05');
  });
});

describe('localTimeOnDate', () => {
  test.each([
    { date: '2026-11-18', time: '17:00', tz: 'Europe/Paris', at: '2026-11-18T16:00:00.000Z', why: 'winter' },
    { date: '2026-07-01', time: '17:00', tz: 'Europe/Paris', at: '2026-07-01T15:00:00.000Z', why: 'summer' },
    { date: '2026-03-29', time: '17:00', tz: 'Europe/Paris', at: '2026-03-29T15:00:00.000Z', why: 'spring-forward day, after the change' },
    { date: '2026-10-25', time: '17:00', tz: 'Europe/Paris', at: '2026-10-25T16:00:00.000Z', why: 'fall-back day, after the change' },
    { date: '2026-03-29', time: '01:59', tz: 'Europe/Paris', at: '2026-03-29T00:59:00.000Z', why: 'just before the gap' },
    { date: '2026-03-29', time: '02:00', tz: 'Europe/Paris', at: '2026-03-29T01:00:00.000Z', why: 'gap start: the jump' },
    { date: '2026-03-29', time: '02:30', tz: 'Europe/Paris', at: '2026-03-29T01:00:00.000Z', why: 'inside the gap: the jump, not 03:30' },
    { date: '2026-03-29', time: '03:00', tz: 'Europe/Paris', at: '2026-03-29T01:00:00.000Z', why: 'first time after the gap' },
    { date: '2026-10-25', time: '02:30', tz: 'Europe/Paris', at: '2026-10-25T00:30:00.000Z', why: 'repeated hour: the first 02:30 (+02:00)' },
    { date: '2026-10-25', time: '03:00', tz: 'Europe/Paris', at: '2026-10-25T02:00:00.000Z', why: 'after the repeated hour' },
    { date: '2026-10-04', time: '02:15', tz: 'Australia/Lord_Howe', at: '2026-10-03T15:30:00.000Z', why: 'half-hour gap 02:00 → 02:30' },
    { date: '2026-11-20', time: '23:59', tz: 'Pacific/Kiritimati', at: '2026-11-20T09:59:00.000Z', why: '+14:00' },
  ])('$time on $date in $tz is $at ($why)', ({ date, time, tz, at }) => {
    expect(localTimeOnDate(date, time, tz).toISOString()).toBe(at);
  });

  test.each(['24:00', '7:00', '17:60', '17h00', ''])('rejects time %j', (time) => {
    expect(() => localTimeOnDate('2026-11-18', time, 'UTC')).toThrow(RangeError);
    expect(isValidTimeOfDay(time)).toBe(false);
  });

  test('rejects an invalid date or zone', () => {
    expect(() => localTimeOnDate('2026-02-30', '17:00', 'UTC')).toThrow(RangeError);
    expect(() => localTimeOnDate('2026-11-18', '17:00', 'Nowhere/Town')).toThrow(RangeError);
  });
});

describe('calendar arithmetic on date strings', () => {
  test.each([
    { date: '2026-11-18', n: 1, out: '2026-11-19' },
    { date: '2026-12-31', n: 1, out: '2027-01-01' },
    { date: '2028-02-28', n: 1, out: '2028-02-29' },
    { date: '2026-02-28', n: 1, out: '2026-03-01' },
    { date: '2026-03-01', n: -1, out: '2026-02-28' },
    { date: '2026-03-28', n: 2, out: '2026-03-30' }, // across the DST change: calendar days, not 24 h
    { date: '2026-01-31', n: 0, out: '2026-01-31' },
  ])('addDays($date, $n) = $out', ({ date, n, out }) => {
    expect(addDays(date, n)).toBe(out);
    expect(daysBetween(date, out)).toBe(n);
  });

  test.each([
    { date: '2026-11-16', day: 1 },
    { date: '2026-11-20', day: 5 },
    { date: '2026-11-22', day: 7 },
    { date: '2027-01-03', day: 7 },
    { date: '2028-02-29', day: 2 },
  ])('isoWeekday($date) = $day', ({ date, day }) => {
    expect(isoWeekday(date)).toBe(day);
  });

  test.each([
    { date: '2026-11-18', week: '2026-11-16', month: '2026-11-30' },
    { date: '2027-01-01', week: '2026-12-28', month: '2027-01-31' },
    { date: '2028-02-10', week: '2028-02-07', month: '2028-02-29' },
    { date: '2026-02-10', week: '2026-02-09', month: '2026-02-28' },
  ])('$date: ISO week starts $week, month ends $month', ({ date, week, month }) => {
    expect(startOfIsoWeek(date)).toBe(week);
    expect(endOfMonth(date)).toBe(month);
  });

  test('eachDate lists both ends and is empty for a reversed range', () => {
    expect(eachDate('2028-02-27', '2028-03-01')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(eachDate('2026-11-19', '2026-11-18')).toEqual([]);
  });

  test.each([
    { date: '2028-02-29', ok: true },
    { date: '2026-02-29', ok: false },
    { date: '2026-13-01', ok: false },
    { date: '2026-1-01', ok: false },
    { date: '2026-11-18T00:00', ok: false },
  ])('isValidDate($date) = $ok', ({ date, ok }) => {
    expect(isValidDate(date)).toBe(ok);
  });

  test.each([
    { tz: 'Europe/Paris', ok: true },
    { tz: 'UTC', ok: true },
    { tz: 'America/Argentina/Buenos_Aires', ok: true },
    { tz: 'Europe/Pariss', ok: false },
    { tz: '', ok: false },
  ])('isValidTimeZone($tz) = $ok', ({ tz, ok }) => {
    expect(isValidTimeZone(tz)).toBe(ok);
  });
});
