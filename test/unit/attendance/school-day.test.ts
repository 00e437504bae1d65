// DESIGN §4, one rule per block: attendance rate and threshold, counted days (excused days,
// records_from → "no data"), lateness, and the precedence of marks.
import { aggregatePresence, type AggregateInput, type UserDayRow } from '../../../shared/attendance/aggregate.js';
import { dayVerdict, resolveMarks, type Mark } from '../../../shared/attendance/marks.js';
import { attendanceRate, periodPresence } from '../../../shared/attendance/presence.js';
import { dayClock } from '../../../shared/attendance/user-day.js';

const H = 3600;
const paris = (local: string) => new Date(`${local}:00+01:00`);
const school = { timezone: 'Europe/Paris', dayEnd: '17:00' };
// Week of Monday 2026-11-16; now: the next Monday, so the whole week has begun.
const now = paris('2026-11-23T12:00');
const week = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
const day = (userId: number, date: string, over: Partial<UserDayRow> = {}): UserDayRow => ({
  userId, date, seconds: 5 * H, openSince: null, checkedIn: true, firstCheckinAt: paris(`${date}T08:00`), ...over,
});
function run(over: Partial<AggregateInput>) {
  return aggregatePresence({
    school, period: 'week', from: week[0], to: week[0], users: [{ id: 1, enrolledOn: '2026-09-01', deletedAt: null }],
    userDays: [], now, completeUntil: now, includeUsers: true, ...over,
  });
}

describe('attendance rate and the week verdict', () => {
  test('4 of 5 days: rate 80 %, absent by the default threshold ("more than 80")', () => {
    const r = run({ userDays: week.slice(0, 4).map((d) => day(1, d)) });
    expect(r.buckets[0]).toMatchObject({ present: 0, absent: 1, rate: 80, counted_user_days: 5, days_present: 4, final: true });
    expect(r.users![0].counts[0]).toMatchObject({ openDays: 5, daysPresent: 4, rate: 80 });
  });
  test('5 of 5 days: rate 100 %, present', () => {
    const r = run({ userDays: week.map((d) => day(1, d)) });
    expect(r.buckets[0]).toMatchObject({ present: 1, absent: 0, rate: 100 });
  });
  test('the threshold is the school\'s: at 75, 4 of 5 is present', () => {
    const r = run({ school: { ...school, thresholdPercent: 75 }, userDays: week.slice(0, 4).map((d) => day(1, d)) });
    expect(r.buckets[0]).toMatchObject({ present: 1, absent: 0, rate: 80 });
  });
  test('rate and threshold helpers are exact at the boundary', () => {
    expect(periodPresence(4, 5)).toBe(false);
    expect(periodPresence(4, 5, 79)).toBe(true);
    expect(attendanceRate(2, 3)).toBe(66.7);
    expect(attendanceRate(0, 0)).toBeNull();
  });
  test('the school rate pools every user\'s days', () => {
    const users = [1, 2].map((id) => ({ id, enrolledOn: '2026-09-01', deletedAt: null }));
    const r = run({ users, userDays: [...week.map((d) => day(1, d)), ...week.slice(0, 3).map((d) => day(2, d))] });
    expect(r.buckets[0]).toMatchObject({ rate: 80, present: 1, absent: 1, counted_user_days: 10, days_present: 8 });
  });
});

describe('counted days', () => {
  test('excused days are left out: 3 days excused, present the other 2 → 2 of 2, present', () => {
    const userDays = [
      ...week.slice(0, 3).map((d) => day(1, d, { seconds: 0, checkedIn: false, firstCheckinAt: null, mark: 'excused' })),
      ...week.slice(3).map((d) => day(1, d)),
    ];
    const r = run({ userDays });
    expect(r.buckets[0]).toMatchObject({ present: 1, absent: 0, rate: 100, excused_days: 3, counted_user_days: 2 });
    expect(r.users![0].counts[0]).toMatchObject({ openDays: 2, excusedDays: 3 });
  });
  test('excused every day: neither present nor absent, "excused"', () => {
    const r = run({ userDays: week.map((d) => day(1, d, { seconds: 0, checkedIn: false, mark: 'excused' })) });
    expect(r.buckets[0]).toMatchObject({ present: 0, absent: 0, total: 0, excused: 1, rate: null });
    expect(r.users![0].statuses).toEqual(['excused']);
  });
  test('days before records_from are "no data": not absent, not counted, not final', () => {
    const r = run({ school: { ...school, recordsFrom: '2026-11-19' }, userDays: week.slice(3).map((d) => day(1, d)) });
    expect(r.buckets[0]).toMatchObject({ present: 1, absent: 0, rate: 100, counted_user_days: 2, final: false, no_data: false });
    expect(r.days[0].noData).toEqual(week.slice(0, 3));
    expect(r.days[0].skipped.filter((s) => s.reason === 'no_data').map((s) => s.date)).toEqual(week.slice(0, 3));
  });
  test('a month entirely before records_from reads no data, nobody absent', () => {
    const r = run({ period: 'month', from: '2026-10-01', to: '2026-10-31', school: { ...school, recordsFrom: '2026-11-16' } });
    expect(r.buckets[0]).toMatchObject({ present: 0, absent: 0, total: 0, no_data: true, final: false, rate: null });
  });
  test('a day bucket before records_from counts nobody', () => {
    const r = run({ period: 'day', from: '2026-11-16', to: '2026-11-16', school: { ...school, recordsFrom: '2026-11-17' } });
    expect(r.buckets[0]).toMatchObject({ total: 0, absent: 0, no_data: true, final: false });
  });
});

describe('lateness', () => {
  const late = { ...school, lateAfter: '08:30' };
  test('first check-in after late_after: present and late, never absent', () => {
    const userDays = [day(1, week[0], { firstCheckinAt: paris(`${week[0]}T08:45`) }), ...week.slice(1).map((d) => day(1, d))];
    const r = run({ school: late, userDays });
    expect(r.buckets[0]).toMatchObject({ present: 1, late: 1, late_days: 1, rate: 100 });
    const d = run({ period: 'day', from: week[0], to: week[0], school: late, userDays });
    expect(d.buckets[0]).toMatchObject({ present: 1, absent: 0, late: 1 });
  });
  test('no late_after: nobody is late by the clock', () => {
    const r = run({ userDays: week.map((d) => day(1, d, { firstCheckinAt: paris(`${d}T10:00`) })) });
    expect(r.buckets[0].late_days).toBe(0);
  });
  test('at late_after exactly is on time', () => {
    const clock = dayClock({ date: week[0], timezone: 'Europe/Paris', dayEnd: '17:00', now, lateAfter: '08:30' });
    expect(dayVerdict({ seconds: 5 * H, openSince: null, firstCheckinAt: paris(`${week[0]}T08:30`) }, clock).late).toBe(false);
  });
});

describe('a day with marks', () => {
  const clock = dayClock({ date: week[0], timezone: 'Europe/Paris', dayEnd: '17:00', now, lateAfter: '08:30' });
  const none = { seconds: 0, openSince: null, checkedIn: false, firstCheckinAt: null };
  const came = { seconds: 1 * H, openSince: null, checkedIn: true, firstCheckinAt: paris(`${week[0]}T09:00`) };
  test.each([
    ['present', none, { status: 'present', late: false, conflict: false }],
    ['late', none, { status: 'present', late: true, conflict: false }],
    ['absent', none, { status: 'absent', late: false, conflict: false }],
    ['absent', came, { status: 'present', late: true, conflict: true }], // marked absent, but checked in
    ['excused', none, { status: 'excused', late: false, conflict: false }],
    ['excused', { ...came, seconds: 5 * H }, { status: 'present', late: true, conflict: false }], // excused morning, present all afternoon
    ['present', came, { status: 'present', late: false, conflict: false }], // whatever the time
  ] as const)('mark %s on %j → %j', (mark, d, verdict) => {
    expect(dayVerdict({ ...d, mark }, clock)).toEqual(verdict);
  });
});

describe('which mark stands (append-only; latest of one author; staff over teachers)', () => {
  let id = 0;
  const m = (over: Partial<Mark>): Mark => ({ id: ++id, mark: 'present', reason: null, period: null, authorKind: 'teacher', author: 'device:a', markedAt: paris('2026-11-16T08:00'), ...over });
  test('the latest mark of the same author wins', () => {
    expect(resolveMarks([m({ mark: 'absent' }), m({ mark: 'present', markedAt: paris('2026-11-16T08:10') })])).toEqual({ mark: 'present', reason: null, disagreement: false });
    expect(resolveMarks([m({ mark: 'present', markedAt: paris('2026-11-16T08:10') }), m({ mark: 'absent' })])!.mark).toBe('present');
  });
  test('staff over teachers, whichever is later', () => {
    const r = resolveMarks([m({ mark: 'excused', reason: 'illness', authorKind: 'staff', author: 'staff:1' }), m({ mark: 'absent', markedAt: paris('2026-11-16T09:00') })]);
    expect(r).toEqual({ mark: 'excused', reason: 'illness', disagreement: false });
  });
  test('two teachers disagreeing on the same period: flagged, the latest stands', () => {
    const r = resolveMarks([m({ mark: 'absent', period: 'P1' }), m({ mark: 'present', period: 'P1', author: 'device:b', markedAt: paris('2026-11-16T08:05') })]);
    expect(r).toEqual({ mark: 'present', reason: null, disagreement: true });
  });
  test('two teachers on different periods do not disagree; a late period makes the day late', () => {
    const r = resolveMarks([m({ mark: 'late', period: 'P1' }), m({ mark: 'present', period: 'P2', author: 'device:b' })]);
    expect(r).toEqual({ mark: 'late', reason: null, disagreement: false });
  });
  test('two staff: the latest stands, no flag', () => {
    const r = resolveMarks([m({ mark: 'absent', authorKind: 'staff', author: 'staff:1' }), m({ mark: 'excused', reason: 'family', authorKind: 'api', author: 'staff:2', markedAt: paris('2026-11-16T10:00') })]);
    expect(r).toEqual({ mark: 'excused', reason: 'family', disagreement: false });
  });
  test('no marks: null', () => {
    expect(resolveMarks([])).toBeNull();
  });
});
