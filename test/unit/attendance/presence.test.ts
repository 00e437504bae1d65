// Day presence, school days, who is counted on a day, and the 80% period rule.
import {
  DEFAULT_SCHOOL_DAYS,
  PRESENT_DAY_SECONDS,
  isCounted,
  isPresentOnDay,
  isSchoolDay,
  periodPresence,
} from '../../../shared/attendance/presence.js';
import { dayClock } from '../../../shared/attendance/user-day.js';

const H = 3600;
const TZ = 'Europe/Paris';
const NOW = new Date('2026-11-20T11:00:00+01:00'); // Friday
const base = { timezone: TZ, dayEnd: '17:00', now: NOW };
const paris = (local: string) => new Date(`${local}:00+01:00`);

describe('isPresentOnDay', () => {
  test('the threshold is 4 hours', () => {
    expect(PRESENT_DAY_SECONDS).toBe(4 * H);
  });

  test.each([
    { name: 'no user-day', day: null, date: '2026-11-18', present: false },
    { name: 'past: exactly 4 h is not more than 4 h', day: { seconds: 4 * H, openSince: null }, date: '2026-11-18', present: false },
    { name: 'past: 4 h and 1 s', day: { seconds: 4 * H + 1, openSince: null }, date: '2026-11-18', present: true },
    { name: 'past: stale open row since 09:00 closes at day_end (8 h)', day: { seconds: 0, openSince: paris('2026-11-18T09:00') }, date: '2026-11-18', present: true },
    { name: 'past: stale open row since 16:00 is 1 h, not "checked in now"', day: { seconds: 0, openSince: paris('2026-11-18T16:00') }, date: '2026-11-18', present: false },
    { name: 'today: checked in 10 minutes ago', day: { seconds: 0, openSince: paris('2026-11-20T10:50') }, date: '2026-11-20', present: true },
    { name: 'today: checked in, clock ahead of now', day: { seconds: 0, openSince: paris('2026-11-20T11:30') }, date: '2026-11-20', present: true },
    { name: 'today: 3 h closed, checked out', day: { seconds: 3 * H, openSince: null }, date: '2026-11-20', present: false },
    { name: 'today: 4 h 1 s closed, checked out', day: { seconds: 4 * H + 1, openSince: null }, date: '2026-11-20', present: true },
    { name: 'future: open does not count', day: { seconds: 0, openSince: paris('2026-11-21T08:00') }, date: '2026-11-21', present: false },
    { name: 'future: 5 h closed (clock ahead) counts', day: { seconds: 5 * H, openSince: null }, date: '2026-11-21', present: true },
  ])('$name → $present', ({ day, date, present }) => {
    expect(isPresentOnDay(day, { ...base, date })).toBe(present);
    expect(isPresentOnDay(day, { ...base, date, today: '2026-11-20' })).toBe(present);
    expect(isPresentOnDay(day, dayClock({ ...base, date }))).toBe(present);
  });
});

describe('isSchoolDay', () => {
  test.each([
    { date: '2026-11-16', days: undefined, school: true, why: 'Monday, default Mon–Fri' },
    { date: '2026-11-20', days: undefined, school: true, why: 'Friday' },
    { date: '2026-11-21', days: undefined, school: false, why: 'Saturday' },
    { date: '2026-11-22', days: undefined, school: false, why: 'Sunday' },
    { date: '2026-11-21', days: [1, 2, 3, 4, 5, 6], school: true, why: 'Saturday at a six-day school' },
    { date: '2026-11-18', days: [1, 2, 4, 5], school: false, why: 'Wednesday off' },
  ])('$date ($why) → $school', ({ date, days, school }) => {
    expect(isSchoolDay(date, days)).toBe(school);
  });

  test('default is Monday to Friday', () => {
    expect(DEFAULT_SCHOOL_DAYS).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('isCounted on 2026-11-18 in Paris', () => {
  test.each([
    { name: 'enrolled before', enrolledOn: '2026-09-01', deletedAt: null, attended: false, counted: true },
    { name: 'enrolled that day', enrolledOn: '2026-11-18', deletedAt: null, attended: false, counted: true },
    { name: 'enrolled the day after', enrolledOn: '2026-11-19', deletedAt: null, attended: false, counted: false },
    { name: 'enrolled the day after, but attended', enrolledOn: '2026-11-19', deletedAt: null, attended: true, counted: true },
    { name: 'deactivated during the day', enrolledOn: '2026-09-01', deletedAt: paris('2026-11-18T10:00'), attended: false, counted: true },
    { name: 'deactivated at local midnight', enrolledOn: '2026-09-01', deletedAt: new Date('2026-11-17T23:00:00Z'), attended: false, counted: true },
    { name: 'deactivated 1 ms before local midnight', enrolledOn: '2026-09-01', deletedAt: new Date('2026-11-17T22:59:59.999Z'), attended: false, counted: false },
    { name: 'deactivated the day before', enrolledOn: '2026-09-01', deletedAt: paris('2026-11-17T10:00'), attended: false, counted: false },
    { name: 'deactivated the day before, but attended', enrolledOn: '2026-09-01', deletedAt: paris('2026-11-17T10:00'), attended: true, counted: true },
  ])('$name → $counted', ({ enrolledOn, deletedAt, attended, counted }) => {
    expect(isCounted({ enrolledOn, deletedAt }, '2026-11-18', TZ, attended)).toBe(counted);
  });

  test('the day boundary is the school’s, not UTC', () => {
    const user = { enrolledOn: '2026-09-01', deletedAt: new Date('2026-11-18T02:00:00Z') };
    expect(isCounted(user, '2026-11-18', TZ, false)).toBe(true); // 03:00 on the 18th in Paris
    expect(isCounted(user, '2026-11-18', 'America/New_York', false)).toBe(false); // 21:00 on the 17th there
  });
});

describe('periodPresence (more than 80% of the school days begun)', () => {
  test.each([
    { present: 4, begun: 5, result: false, why: 'exactly 80%' },
    { present: 5, begun: 5, result: true, why: '100%' },
    { present: 8, begun: 10, result: false, why: 'exactly 80%' },
    { present: 9, begun: 11, result: true, why: '81.8%' },
    { present: 16, begun: 20, result: false, why: 'exactly 80%' },
    { present: 17, begun: 21, result: true, why: '80.95%' },
    { present: 12, begun: 15, result: false, why: 'exactly 80%' },
    { present: 13, begun: 15, result: true, why: '86.7%' },
    { present: 1, begun: 1, result: true, why: 'first day of the week, present' },
    { present: 0, begun: 1, result: false, why: 'first day of the week, absent' },
    { present: 0, begun: 0, result: false, why: 'nothing begun' },
  ])('$present of $begun → $result ($why)', ({ present, begun, result }) => {
    expect(periodPresence(present, begun)).toBe(result);
  });
});
