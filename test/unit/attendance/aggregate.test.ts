// Aggregation of stored user-days into present/absent/total buckets, as the endpoint answers them.
import {
  aggregatePresence,
  type AggregateInput,
  type AggregateUser,
  type UserDayRow,
} from '../../../shared/attendance/aggregate.js';
import { eachDate } from '../../../shared/time/calendar.js';
import { isSchoolDay } from '../../../shared/attendance/presence.js';

const H = 3600;
const school = { timezone: 'Europe/Paris', dayEnd: '17:00' };
const paris = (local: string) => new Date(`${local}:00+01:00`);

function aUser(id: number, over: Partial<AggregateUser> = {}): AggregateUser {
  return { id, enrolledOn: '2026-09-01', deletedAt: null, ...over };
}
function aDay(userId: number | string, date: string, hours: number, openSince: Date | null = null): UserDayRow {
  return { userId, date, seconds: Math.round(hours * H), openSince };
}
function run(over: Partial<AggregateInput>) {
  return aggregatePresence({
    school,
    period: 'day',
    from: '2026-11-16',
    to: '2026-11-16',
    users: [],
    userDays: [],
    now: paris('2026-11-18T11:00'),
    completeUntil: null,
    includeUsers: true,
    ...over,
  });
}
const figures = (r: ReturnType<typeof run>) => r.buckets.map(({ start, present, absent, total }) => ({ start, present, absent, total }));
const statusesOf = (r: ReturnType<typeof run>) => Object.fromEntries(r.users!.map((u) => [u.userId, u.statuses]));

describe('the week containing today (now: Wednesday 2026-11-18 11:00 in Paris)', () => {
  const users = [
    aUser(1), // present Mon, Tue, checked in now
    aUser(2), // present Mon, Tue, not here today
    aUser(3, { enrolledOn: '2026-11-18' }), // enrolled today, checked in now
    aUser(4, { deletedAt: paris('2026-11-17T10:00') }), // deactivated Tuesday morning
    aUser(5, { enrolledOn: '2026-11-23' }), // starts next week
    aUser(6, { deletedAt: paris('2026-11-10T10:00') }), // gone before the week
  ];
  const userDays = [
    aDay(1, '2026-11-16', 5), aDay(1, '2026-11-17', 5), aDay(1, '2026-11-18', 0, paris('2026-11-18T08:00')),
    aDay(2, '2026-11-16', 5), aDay(2, '2026-11-17', 5),
    aDay(3, '2026-11-18', 0, paris('2026-11-18T10:55')),
    aDay(4, '2026-11-16', 5), aDay(4, '2026-11-17', 3),
  ];
  const completeUntil = new Date('2026-11-17T23:00:00Z'); // complete up to Wednesday 00:00 in Paris

  test('week: only Mon–Wed have begun; each user judged on the days they are counted', () => {
    const r = run({ period: 'week', from: '2026-11-18', to: '2026-11-18', users, userDays, completeUntil });
    expect(r.buckets).toMatchObject([{ start: '2026-11-16', end: '2026-11-22', present: 2, absent: 2, total: 4, final: false }]);
    expect(statusesOf(r)).toEqual({
      1: ['present'], // 3 of 3
      2: ['absent'], // 2 of 3 = 67%
      3: ['present'], // 1 of 1: counted from enrolment only
      4: ['absent'], // counted Mon, Tue (deactivated during Tue); 1 of 2
      5: [null],
      6: [null],
    });
  });

  test('days: past days closed, today live, later days count nobody', () => {
    const r = run({ period: 'day', from: '2026-11-16', to: '2026-11-22', users, userDays, completeUntil });
    expect(figures(r)).toEqual([
      { start: '2026-11-16', present: 3, absent: 0, total: 3 }, // 1, 2, 4
      { start: '2026-11-17', present: 2, absent: 1, total: 3 }, // 1, 2; 4 did 3 h
      { start: '2026-11-18', present: 2, absent: 1, total: 3 }, // 1 and 3 checked in now; 2 absent; 4 gone
      { start: '2026-11-19', present: 0, absent: 0, total: 0 },
      { start: '2026-11-20', present: 0, absent: 0, total: 0 },
      { start: '2026-11-21', present: 0, absent: 0, total: 0 },
      { start: '2026-11-22', present: 0, absent: 0, total: 0 },
    ]);
    expect(r.buckets.map((b) => b.final)).toEqual([true, true, false, false, false, false, false]);
    expect(statusesOf(r)[4]).toEqual(['present', 'absent', null, null, null, null, null]);
    expect(statusesOf(r)[3]).toEqual([null, null, 'present', null, null, null, null]);
  });

  test('later the same day the live part makes a 3 h check-in count', () => {
    const rows = [aDay(7, '2026-11-18', 1, paris('2026-11-18T09:00'))];
    const at = (time: string) => run({ from: '2026-11-18', to: '2026-11-18', users: [aUser(7)], userDays: rows, now: paris(`2026-11-18T${time}`) });
    // Checked in now → present at any time today.
    expect(figures(at('09:30'))[0]).toMatchObject({ present: 1, total: 1 });
    // The next morning the stale open row is closed at day_end: 1 h + 8 h.
    const nextDay = run({ from: '2026-11-18', to: '2026-11-18', users: [aUser(7)], userDays: rows, now: paris('2026-11-19T08:00') });
    expect(figures(nextDay)[0]).toMatchObject({ present: 1, total: 1 });
    const late = [aDay(8, '2026-11-18', 1, paris('2026-11-18T16:00'))];
    const nextDayLate = run({ from: '2026-11-18', to: '2026-11-18', users: [aUser(8)], userDays: late, now: paris('2026-11-19T08:00') });
    expect(figures(nextDayLate)[0]).toMatchObject({ present: 0, absent: 1, total: 1 }); // 1 h + 1 h
  });
});

describe('a past week: the 80% boundary and mid-week enrolment (week of 2026-11-09, asked 2026-11-20)', () => {
  const weekdays = ['2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13'];
  const present = (id: number, dates: string[], hours = 5) => dates.map((d) => aDay(id, d, hours));
  const users = [
    aUser(1), aUser(2), aUser(3, { enrolledOn: '2026-11-10' }), aUser(4, { enrolledOn: '2026-11-10' }), aUser(5), aUser(6),
    aUser(7, { enrolledOn: '2026-11-12' }),
    aUser(8, { deletedAt: paris('2026-11-10T12:00') }),
  ];
  const userDays = [
    ...present(1, weekdays.slice(0, 4)), // 4 of 5 = 80%: absent
    ...present(2, weekdays), // 5 of 5
    ...present(3, weekdays.slice(1)), // 4 of 4 since enrolment
    ...present(4, weekdays.slice(2)), // 3 of 4: absent
    // 5: nothing at all: absent
    ...present(6, [...weekdays.slice(0, 4), '2026-11-14']), // Saturday does not make up for Friday
    ...present(7, ['2026-11-10', '2026-11-12', '2026-11-13']), // came before enrolment: counted that day too, 3 of 3
    ...present(8, ['2026-11-09', '2026-11-10', '2026-11-12']), // deactivated Tue; attendance Thu counts: 3 of 3
  ];

  test('week figures and statuses', () => {
    const r = run({ period: 'week', from: '2026-11-09', to: '2026-11-15', users, userDays, now: paris('2026-11-20T11:00'), completeUntil: new Date('2026-11-20T00:00:00Z') });
    expect(r.buckets).toMatchObject([{ start: '2026-11-09', end: '2026-11-15', present: 4, absent: 4, total: 8, final: true }]);
    expect(statusesOf(r)).toEqual({
      1: ['absent'], 2: ['present'], 3: ['present'], 4: ['absent'], 5: ['absent'], 6: ['absent'], 7: ['present'], 8: ['present'],
    });
  });

  test('a past Saturday as a day bucket: the school is closed, so only who came counts, as present', () => {
    const r = run({ period: 'day', from: '2026-11-14', to: '2026-11-15', users, userDays, now: paris('2026-11-20T11:00') });
    // 1–7 are enrolled; only 6 came on Saturday: present, and nobody is absent. Sunday: no school.
    expect(figures(r)).toEqual([{ start: '2026-11-14', present: 1, absent: 0, total: 1 }, { start: '2026-11-15', present: 0, absent: 0, total: 0 }]);
    expect(r.days[0]).toMatchObject({ counted: [], skipped: [{ date: '2026-11-14', reason: 'not_a_school_day', label: 'Saturday' }], attendedClosed: ['2026-11-14'] });
    expect(statusesOf(r)[6]).toEqual(['present', null]);
    expect(statusesOf(r)[1]).toEqual([null, null]);
  });
});

describe('months', () => {
  test('a running month counts only begun school days; a month not begun counts nobody', () => {
    // November 2026 up to Friday 20th: 15 school days.
    const begun = eachDate('2026-11-01', '2026-11-20').filter((d) => isSchoolDay(d));
    expect(begun).toHaveLength(15);
    const users = [aUser(1), aUser(2)];
    const userDays = [
      ...begun.slice(3).map((d) => aDay(1, d, 6)), // 12 of 15 = 80%: absent
      ...begun.slice(2).map((d) => aDay(2, d, 6)), // 13 of 15: present
    ];
    const r = run({ period: 'month', from: '2026-11-15', to: '2026-12-05', users, userDays, now: paris('2026-11-20T18:00') });
    expect(r.buckets).toMatchObject([
      { start: '2026-11-01', end: '2026-11-30', present: 1, absent: 1, total: 2, final: false },
      { start: '2026-12-01', end: '2026-12-31', present: 0, absent: 0, total: 0, final: false },
    ]);
    expect(statusesOf(r)).toEqual({ 1: ['absent', null], 2: ['present', null] });
  });

  test('leap February, complete', () => {
    const days = eachDate('2028-02-01', '2028-02-29').filter((d) => isSchoolDay(d)); // 21 school days
    const r = run({
      period: 'month', from: '2028-02-29', to: '2028-02-29', users: [aUser(1, { enrolledOn: '2028-01-01' })],
      userDays: days.slice(4).map((d) => aDay(1, d, 5)), // 17 of 21 = 80.95%
      now: paris('2028-03-10T12:00'), completeUntil: new Date('2028-03-01T00:00:00Z'),
    });
    expect(r.buckets).toMatchObject([{ start: '2028-02-01', end: '2028-02-29', present: 1, absent: 0, total: 1, final: true }]);
  });
});

describe('edges', () => {
  test('an ISO week across the new year is one bucket', () => {
    const r = run({
      period: 'week', from: '2027-01-01', to: '2027-01-01', users: [aUser(1)],
      userDays: ['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01'].map((d) => aDay(1, d, 5)),
      now: paris('2027-01-05T12:00'),
    });
    expect(r.buckets).toMatchObject([{ start: '2026-12-28', end: '2027-01-03', present: 1, absent: 0, total: 1, final: false }]);
  });

  test('ids from the database as strings match numeric user ids', () => {
    const r = run({ users: [aUser(1), aUser(2)], userDays: [aDay('1', '2026-11-16', 5)] });
    expect(figures(r)).toEqual([{ start: '2026-11-16', present: 1, absent: 1, total: 2 }]);
    expect(r.users!.map((u) => u.userId)).toEqual([1, 2]);
  });

  test('a row for a user not listed counts on its day only', () => {
    const r = run({ period: 'day', from: '2026-11-16', to: '2026-11-17', users: [aUser(1)], userDays: [aDay(9, '2026-11-16', 1)] });
    expect(figures(r)).toEqual([
      { start: '2026-11-16', present: 0, absent: 2, total: 2 },
      { start: '2026-11-17', present: 0, absent: 1, total: 1 },
    ]);
    expect(statusesOf(r)[9]).toEqual(['absent', null]);
  });

  test('rows outside the buckets are ignored', () => {
    const r = run({ users: [aUser(1)], userDays: [aDay(1, '2026-11-15', 8), aDay(1, '2026-11-17', 8)] });
    expect(figures(r)).toEqual([{ start: '2026-11-16', present: 0, absent: 1, total: 1 }]);
  });

  test('a reversed range answers no buckets', () => {
    expect(run({ from: '2026-11-17', to: '2026-11-16', users: [aUser(1)] })).toEqual({ buckets: [], days: [], users: [] });
  });

  test('per-user statuses only when asked', () => {
    expect(run({ users: [aUser(1)], includeUsers: false }).users).toBeUndefined();
  });

  test('the day of the DST change is final only after its 25th hour', () => {
    const input = { from: '2026-10-25', to: '2026-10-25', users: [aUser(1)], now: paris('2026-10-27T10:00') };
    expect(run({ ...input, completeUntil: new Date('2026-10-25T22:30:00Z') }).buckets[0].final).toBe(false);
    expect(run({ ...input, completeUntil: new Date('2026-10-25T23:00:00Z') }).buckets[0].final).toBe(true);
  });

  test('a school in another zone: "today" and the live part are that zone’s', () => {
    // 2026-11-18T23:30Z is Thursday 00:30 in Paris but still Wednesday 18:30 in New York.
    const now = new Date('2026-11-18T23:30:00Z');
    const rows = [aDay(1, '2026-11-18', 0, new Date('2026-11-18T22:00:00Z'))];
    const ny = run({ school: { timezone: 'America/New_York', dayEnd: '17:00' }, from: '2026-11-18', to: '2026-11-19', users: [aUser(1)], userDays: rows, now });
    expect(figures(ny)).toEqual([
      { start: '2026-11-18', present: 1, absent: 0, total: 1 }, // checked in now
      { start: '2026-11-19', present: 0, absent: 0, total: 0 }, // not begun there
    ]);
    const paris_ = run({ from: '2026-11-18', to: '2026-11-19', users: [aUser(1)], userDays: rows, now });
    expect(figures(paris_)).toEqual([
      { start: '2026-11-18', present: 0, absent: 1, total: 1 }, // past: opened 23:00, after day_end
      { start: '2026-11-19', present: 0, absent: 1, total: 1 },
    ]);
  });
});

describe('a large school', () => {
  test('2,000 users × 31 days: late enrolments, weekends and the month verdict', () => {
    // Every 4th user never comes; every 10th enrols mid-month; the others come every school day.
    const ids = Array.from({ length: 2000 }, (_, i) => i + 1);
    const lateStart = (id: number) => id % 10 === 0;
    const comes = (id: number) => id % 4 !== 0;
    const users = ids.map((id) => aUser(id, { enrolledOn: lateStart(id) ? '2026-10-15' : '2026-09-01' }));
    const userDays: UserDayRow[] = [];
    for (const id of ids) {
      if (!comes(id)) continue;
      for (const d of eachDate(lateStart(id) ? '2026-10-15' : '2026-10-01', '2026-10-31')) if (isSchoolDay(d)) userDays.push(aDay(id, d, 5));
    }
    const input: AggregateInput = { school, period: 'day', from: '2026-10-01', to: '2026-10-31', users, userDays, now: paris('2026-11-20T11:00'), completeUntil: null };
    // Its speed is `npm run bench -- figures`' business, not a timed test's.

    expect(aggregatePresence({ ...input, period: 'month' }).buckets[0]).toMatchObject({ present: 1500, absent: 500, total: 2000 });
    const days = aggregatePresence(input).buckets;
    const early = ids.filter((id) => !lateStart(id));
    expect(days[0]).toMatchObject({ start: '2026-10-01', total: early.length, present: early.filter(comes).length }); // Thursday
    expect(days[3]).toMatchObject({ start: '2026-10-04', total: 0, present: 0 }); // Sunday: no school
    expect(days[14]).toMatchObject({ start: '2026-10-15', total: 2000, present: 1500 });
  });
});
