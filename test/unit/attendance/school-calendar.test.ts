// Open days and the figures at the calendar's edges: a closure on the Monday of a week,
// enrolment on a closure, a Saturday event, a holiday across a month boundary, DST weeks.
import { aggregatePresence, type AggregateInput, type AggregateUser, type UserDayRow } from '../../../shared/attendance/aggregate.js';
import { SchoolCalendar, type CalendarEntry } from '../../../shared/attendance/school-calendar.js';
import { eachDate } from '../../../shared/time/calendar.js';

const H = 3600;
const paris = (local: string) => new Date(`${local}:00+01:00`);
const user = (id: number, over: Partial<AggregateUser> = {}): AggregateUser => ({ id, enrolledOn: '2025-09-01', deletedAt: null, ...over });
const day = (userId: number, date: string, hours: number): UserDayRow => ({ userId, date, seconds: hours * H, openSince: null, checkedIn: true });
const entry = (kind: CalendarEntry['kind'], label: string, startsOn: string, endsOn = startsOn): CalendarEntry => ({ kind, label, startsOn, endsOn });

function run(entries: CalendarEntry[], over: Partial<AggregateInput>) {
  return aggregatePresence({
    school: { timezone: 'Europe/Paris', dayEnd: '17:00', calendar: new SchoolCalendar([1, 2, 3, 4, 5], entries) },
    period: 'week', from: '2026-11-16', to: '2026-11-16', users: [], userDays: [], now: paris('2026-12-20T12:00'), completeUntil: null,
    includeUsers: true, ...over,
  });
}
const weekOf = (monday: string) => eachDate(monday, eachDate(monday, monday).length ? addSix(monday) : monday);
function addSix(d: string) { return eachDate(d, '2099-12-31')[6]; }

describe('SchoolCalendar', () => {
  const cal = new SchoolCalendar([1, 2, 3, 4, 5], [
    entry('term', 'School year 2025–2026', '2025-09-01', '2026-07-03'),
    entry('holiday', 'Vacances de Noël', '2025-12-20', '2026-01-04'),
    entry('public_holiday', 'Jour de Noël', '2025-12-25'),
    entry('closure', 'Strike', '2026-03-09'),
  ]);
  test.each([
    ['2025-12-19', { open: true }],
    ['2025-12-22', { open: false, reason: 'holiday', label: 'Vacances de Noël' }], // a Monday in the holidays
    ['2025-12-25', { open: false, reason: 'public_holiday', label: 'Jour de Noël' }], // the more specific entry names it
    ['2026-01-05', { open: true }],
    ['2026-03-07', { open: false, reason: 'not_a_school_day', label: 'Saturday' }],
    ['2026-03-09', { open: false, reason: 'closure', label: 'Strike' }],
    ['2026-07-06', { open: false, reason: 'out_of_term', label: 'Outside the terms' }],
  ])('%s', (date, expected) => {
    expect(cal.opening(date)).toEqual(expected);
  });

  test('without any term every school weekday is open', () => {
    expect(new SchoolCalendar([1, 2, 3, 4, 5], []).isOpen('2030-08-15')).toBe(true);
  });
});

describe('figures with a calendar', () => {
  test('a closure on the Monday: the week is judged on Tue–Fri, so 4 of 4 is present', () => {
    const week = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
    const r = run([entry('closure', 'Snow day', '2026-11-16')], {
      users: [user(1), user(2)],
      userDays: [...week.slice(1).map((d) => day(1, d, 6)), ...week.slice(1, 4).map((d) => day(2, d, 6))],
    });
    expect(r.buckets[0]).toMatchObject({ present: 1, absent: 1, total: 2 });
    expect(r.days[0].counted).toEqual(week.slice(1));
    expect(r.days[0].skipped).toEqual([
      { date: '2026-11-16', reason: 'closure', label: 'Snow day' },
      { date: '2026-11-21', reason: 'not_a_school_day', label: 'Saturday' },
      { date: '2026-11-22', reason: 'not_a_school_day', label: 'Sunday' },
    ]);
    expect(r.users!.map((u) => u.counts[0])).toMatchObject([{ openDays: 4, daysPresent: 4 }, { openDays: 4, daysPresent: 3 }]);
    // Without the closure, the same check-ins are 4 of 5: absent.
    expect(run([], { users: [user(1)], userDays: week.slice(1).map((d) => day(1, d, 6)) }).buckets[0]).toMatchObject({ present: 0, total: 1 });
  });

  test('enrolled on a closure: counted from the next open day, and not on the closure itself', () => {
    const r = run([entry('closure', 'Strike', '2026-11-18')], {
      users: [user(1, { enrolledOn: '2026-11-18' })],
      userDays: [day(1, '2026-11-19', 6), day(1, '2026-11-20', 6)],
    });
    expect(r.users![0]).toMatchObject({ statuses: ['present'], counts: [{ openDays: 2, daysPresent: 2 }] });
    const days = run([entry('closure', 'Strike', '2026-11-18')], { period: 'day', from: '2026-11-18', to: '2026-11-19', users: [user(1, { enrolledOn: '2026-11-18' })] });
    expect(days.buckets.map((b) => b.total)).toEqual([0, 1]);
    expect(days.users![0].statuses).toEqual([null, 'absent']);
  });

  test('a Saturday event: who came is present, nobody absent; the week ignores it', () => {
    const users = [user(1), user(2), user(3)];
    const weekdays = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
    const userDays = [...weekdays.map((d) => day(1, d, 6)), day(1, '2026-11-21', 2), day(2, '2026-11-21', 5), ...weekdays.slice(0, 4).map((d) => day(3, d, 6))];
    const sat = run([], { period: 'day', from: '2026-11-21', to: '2026-11-21', users, userDays });
    expect(sat.buckets[0]).toMatchObject({ present: 2, absent: 0, total: 2 }); // 2 h is enough on a closed day: they came
    expect(sat.days[0].attendedClosed).toEqual(['2026-11-21']);
    expect(sat.users!.map((u) => u.counts[0])).toMatchObject([{ openDays: 0, daysPresent: 1 }, { openDays: 0, daysPresent: 1 }, null]);
    const week = run([], { users, userDays });
    expect(week.users!.map((u) => u.statuses[0])).toEqual(['present', 'absent', 'absent']); // 5/5, 0/5, 4/5
    expect(week.days[0].counted).toHaveLength(5);
  });

  test('a holiday across a month boundary: each month counts only its own open days', () => {
    const holiday = entry('holiday', 'Vacances de la Toussaint', '2025-10-18', '2025-11-02');
    const r = run([holiday], { period: 'month', from: '2025-10-01', to: '2025-11-30', users: [user(1)], now: paris('2025-12-10T12:00'),
      userDays: [...eachDate('2025-10-01', '2025-10-17'), ...eachDate('2025-11-03', '2025-11-30')].map((d) => day(1, d, 6)).filter((d) => ![0, 6].includes(new Date(`${d.date}T12:00:00Z`).getUTCDay())) });
    expect(r.days.map((d) => d.counted.length)).toEqual([13, 20]); // Oct 1–17: 13 weekdays; Nov 3–28: 20
    expect(r.days[0].skipped.filter((s) => s.reason === 'holiday').map((s) => s.date)).toEqual(eachDate('2025-10-18', '2025-10-31'));
    expect(r.days[1].skipped.filter((s) => s.reason === 'holiday').map((s) => s.date)).toEqual(['2025-11-01', '2025-11-02']);
    expect(r.buckets.map((b) => b.present)).toEqual([1, 1]);
  });

  test('DST weeks: the week of the change counts its five weekdays, day by day', () => {
    // Clocks go forward on Sunday 2026-03-29 and back on Sunday 2026-10-25 in Paris.
    for (const monday of ['2026-03-23', '2026-03-30', '2026-10-19', '2026-10-26']) {
      const days = weekOf(monday);
      const r = run([entry('closure', 'Pedagogical day', days[4])], { from: monday, to: monday, users: [user(1)], userDays: days.slice(0, 4).map((d) => day(1, d, 5)) });
      expect(r.days[0].counted).toEqual(days.slice(0, 4));
      expect(r.buckets[0]).toMatchObject({ start: monday, end: days[6], present: 1, total: 1 });
    }
  });

  test('week and month skip the days after today as not begun', () => {
    const r = run([], { from: '2026-11-18', to: '2026-11-18', users: [user(1)], userDays: [day(1, '2026-11-16', 5)], now: paris('2026-11-17T09:00') });
    expect(r.days[0].counted).toEqual(['2026-11-16', '2026-11-17']);
    expect(r.days[0].skipped.map((s) => s.reason)).toEqual(['not_begun', 'not_begun', 'not_begun', 'not_begun', 'not_begun']);
  });
});
