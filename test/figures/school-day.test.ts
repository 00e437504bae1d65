// A school's day through the REST API (issue #28): Today's absent / not yet arrived / late
// counts, an excuse over three days, a forgotten check-in added and withdrawn, marks and their
// conflicts, records_from, the rate and the verdict — the same numbers in figures and history.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
const clock = schoolClock(); // now is between 12:00 and 12:59 local
let token: string;
let school: { id: number };
let ana: { id: number }, ben: { id: number }, cleo: { id: number }, dan: { id: number }, eve: { id: number };

const iso = (ms: number) => new Date(ms).toISOString();
async function post(path: string, body: object, headers: Record<string, string> = {}) {
  return http(suite.url, 'POST', path, { token, body, headers });
}
async function checkin(userId: number, days: number, hhmm: string, reason?: string) {
  const res = await post('/api/attendances', { user_id: userId, type: 'checkin', occurred_at: iso(clock.at(days, hhmm)), ...(reason && { reason }) });
  expect(res.status).toBe(201);
  return res.body;
}
async function checkout(userId: number, days: number, hhmm: string) {
  expect((await post('/api/attendances', { user_id: userId, type: 'checkout', occurred_at: iso(clock.at(days, hhmm)) })).status).toBe(201);
}

beforeAll(async () => {
  school = await aSchool(suite.db, { timezone: clock.timezone, school_days: EVERY_DAY, late_after: '09:00', day_end: '17:00' });
  const staff = await aStaff(suite.db, 'school_admin', school.id);
  token = await loginAs(suite.url, staff);
  const enrolled = { enrolled_on: clock.day(-30) };
  [ana, ben, cleo, dan, eve] = await Promise.all(['Ana', 'Ben', 'Cléo', 'Dan', 'Eve'].map((name) => aUser(suite.db, school.id, { name, ...enrolled })));
  // Four days ago to yesterday: everybody came, 08:00–16:00 (Ben at 10:00: late). Data starts four days ago.
  for (const d of [-4, -3, -2, -1]) {
    for (const u of [ana, ben, cleo, dan, eve]) {
      if (u === cleo && d === -1) continue; // Cléo forgot her badge yesterday
      await checkin(u.id, d, u === ben ? '10:00' : '08:00');
      await checkout(u.id, d, '16:00');
    }
  }
  // Today: Ana at 08:00, Ben late at 10:00, Eve at 08:30; Cléo and Dan not there.
  await checkin(ana.id, 0, '08:00');
  await checkin(ben.id, 0, '10:00');
  await checkin(eve.id, 0, '08:30');
});

const figures = async (period: string, from: string, to = from) =>
  (await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=${period}&from=${from}&to=${to}&include=users`, { token })).body;
const today = async () => (await http(suite.url, 'GET', `/api/schools/${school.id}/presence/absent`, { token })).body;
const history = async (userId: number) => (await http(suite.url, 'GET', `/api/users/${userId}/history?from=${clock.day(-6)}&to=${clock.today}`, { token })).body;

describe('a school day through the API', () => {
  test('Today: absent (past late_after) apart from late arrivals; nobody "not yet arrived" after late_after', async () => {
    const t = await today();
    expect(t.late_after).toBe('09:00');
    expect(t.counts).toMatchObject({ present: 3, late: 1, absent: 2, not_yet_arrived: 0, excused: 0 });
    expect(t.items.filter((i: any) => i.status === 'late').map((i: any) => i.name)).toEqual(['Ben']);
    expect(t.items.filter((i: any) => i.status === 'absent').map((i: any) => i.name).sort()).toEqual(['Cléo', 'Dan']);
    const day = (await figures('day', clock.today)).buckets[0];
    expect(day).toMatchObject({ present: 3, absent: 2, late: 1, rate: 60 });
  });

  test('days before the first data read "no data", never absent', async () => {
    const h = await history(ana.id);
    expect(h.records_from).toBe(clock.day(-4));
    expect(h.days.filter((d: any) => d.status === 'no_data').map((d: any) => d.date)).toEqual([clock.day(-6), clock.day(-5)]);
    expect(h.summary).toMatchObject({ open_days: 5, days_present: 5, rate: 100, no_data_days: 2 });
    const early = (await figures('day', clock.day(-5))).buckets[0];
    expect(early).toMatchObject({ absent: 0, total: 0, no_data: true, final: false });
  });

  test('an excuse over three days takes them out of the count, with its reason; Idempotency-Key replays it', async () => {
    const body = { user_id: dan.id, from: clock.day(-2), to: clock.today, mark: 'excused', reason: 'illness', via: 'dashboard' };
    const first = await post('/api/marks', body, { 'Idempotency-Key': 'dan-ill' });
    expect(first.status).toBe(201);
    expect(first.body.items.map((m: any) => [m.date, m.mark, m.reason, m.author_kind])).toEqual([-2, -1, 0].map((d) => [clock.day(d), 'excused', 'illness', 'staff']));
    const again = await post('/api/marks', body, { 'Idempotency-Key': 'dan-ill' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await http(suite.url, 'GET', `/api/marks?user_id=${dan.id}`, { token })).body.items).toHaveLength(3);
    // Present on the two days before, excused on three (the two he came included: time makes them present).
    const h = await history(dan.id);
    expect(h.days.filter((d: any) => d.status === 'excused').map((d: any) => d.date)).toEqual([clock.today]);
    expect(h.days.find((d: any) => d.date === clock.today)).toMatchObject({ mark: 'excused', mark_reason: 'illness' });
    expect((await today()).counts).toMatchObject({ excused: 1, absent: 1 });
    expect((await post('/api/marks', { user_id: dan.id, from: clock.today, mark: 'excused' })).status).toBe(422); // no reason
  });

  test('a forgotten check-in added from the pupil page counts, shows its author and reason, and can be withdrawn', async () => {
    const before = await history(cleo.id);
    expect(before.days.find((d: any) => d.date === clock.day(-1)).status).toBe('absent');
    const row = await checkin(cleo.id, -1, '08:00', 'forgot her badge');
    expect(row).toMatchObject({ reason: 'forgot her badge', created_by: expect.any(Number), device_id: null });
    const added = await history(cleo.id);
    expect(added.days.find((d: any) => d.date === clock.day(-1)).status).toBe('present'); // closed at day_end: 9 h
    expect(added.summary).toMatchObject({ open_days: 5, days_present: 4, rate: 80 });
    const withdrawn = await post(`/api/attendances/${row.id}/withdraw`, { reason: 'entered on the wrong pupil' });
    expect(withdrawn.status).toBe(201);
    expect(withdrawn.body).toMatchObject({ cancels_id: row.id, type: 'checkin' });
    expect((await post(`/api/attendances/${row.id}/withdraw`, { reason: 'twice' })).status).toBe(409);
    expect((await history(cleo.id)).days.find((d: any) => d.date === clock.day(-1)).status).toBe('absent');
  });

  test('marked absent but checked in: present, and flagged to the school', async () => {
    expect((await post('/api/marks', { user_id: eve.id, from: clock.today, mark: 'absent' })).status).toBe(201);
    const h = await history(eve.id);
    expect(h.days.find((d: any) => d.date === clock.today)).toMatchObject({ status: 'present', mark: 'absent', mark_conflict: 'absent_but_checked_in' });
    const conflicts = (await http(suite.url, 'GET', `/api/schools/${school.id}/marks/conflicts?from=${clock.today}&to=${clock.today}`, { token })).body.items;
    expect(conflicts).toEqual([expect.objectContaining({ user_id: eve.id, conflict: 'absent_but_checked_in' })]);
  });

  test('the threshold is the school\'s setting, and lateness is counted over a period', async () => {
    const from = clock.day(-4);
    const to = clock.day(-1);
    const ranged = async () => {
      const r = await http(suite.url, 'GET', `/api/users/${cleo.id}/history?from=${from}&to=${to}&period=week`, { token });
      return r.body;
    };
    expect((await ranged()).summary).toMatchObject({ open_days: 4, days_present: 3, rate: 75 });
    const ben4 = (await http(suite.url, 'GET', `/api/users/${ben.id}/history?from=${from}&to=${to}`, { token })).body.summary;
    expect(ben4).toMatchObject({ late_days: 4, days_present: 4 });
    const patched = await http(suite.url, 'PATCH', `/api/schools/${school.id}/attendance-settings`, { token, body: { attendance_threshold: 70, late_after: '10:30' } });
    expect(patched.body).toMatchObject({ attendance_threshold: 70, late_after: '10:30' });
    const f = await figures('month', clock.today);
    expect(f.attendance_threshold).toBe(70);
    expect((await today()).counts.late).toBe(0);
  });
});
