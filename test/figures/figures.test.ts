// The figures an admin reads: presence by day, week and month, who is in now, whether a
// figure is final, the ETag cache, and a rebuild that restores damaged figures.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import type { NewSchool } from '../../db/schema/index.js';
import { EVERY_DAY, middayZone } from '../support/clock.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let token: string;

beforeAll(async () => {
  token = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
});

/** A school in Paris with three pupils enrolled before November 2026 and one terminal. */
async function seededSchool(overrides: Partial<NewSchool> = {}) {
  const school = await aSchool(suite.db, { timezone: 'Europe/Paris', ...overrides });
  const [ana, ben, cleo] = [await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' }), await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' }), await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' })];
  const device = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  return { school, ana, ben, cleo, device };
}

let recordId = 0;
function day(userId: number, date: string, inAt: string, outAt: string | null): CsvAttendance[] {
  const rows: CsvAttendance[] = [{ record_id: ++recordId, user_id: userId, type: 'checkin', occurred_at: `${date}T${inAt}:00+01:00` }];
  if (outAt) rows.push({ record_id: ++recordId, user_id: userId, type: 'checkout', occurred_at: `${date}T${outAt}:00+01:00` });
  return rows;
}

describe('aggregate by day, week and month', () => {
  test('counts present, absent and total per bucket from what devices sent', async () => {
    const { school, ana, ben, device } = await seededSchool();
    // Week of Mon 2026-11-09: Ana 5 full days; Ben 4 full days and a 3-hour Friday.
    const rows: CsvAttendance[] = [];
    for (const date of ['2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13']) {
      rows.push(...day(ana.id, date, '08:00', '16:00'));
      rows.push(...day(ben.id, date, '08:00', date === '2026-11-13' ? '11:00' : '16:00'));
    }
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));

    const days = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=2026-11-12&to=2026-11-14`, { token });
    expect(days.status).toBe(200);
    expect(days.body.timezone).toBe('Europe/Paris');
    expect(days.body.buckets.map((b: any) => [b.start, b.present, b.absent, b.total, b.school_day])).toEqual([
      ['2026-11-12', 2, 1, 3, true],
      ['2026-11-13', 1, 2, 3, true], // Ben stayed 3 h: absent
      ['2026-11-14', 0, 0, 0, false], // Saturday: no school, nobody absent
    ]);

    // Ben was present 4 of 5 school days: 80% is not more than 80%, so absent for the week.
    const week = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=week&from=2026-11-09&to=2026-11-15&include=users`, { token });
    expect(week.body.buckets).toEqual([expect.objectContaining({ start: '2026-11-09', end: '2026-11-15', present: 1, absent: 2, total: 3 })]);
    const statuses = Object.fromEntries(week.body.users.map((u: any) => [u.user_id, u.statuses[0]]));
    expect(statuses).toEqual({ [ana.id]: 'present', [ben.id]: 'absent', [week.body.users.find((u: any) => u.user_id !== ana.id && u.user_id !== ben.id).user_id]: 'absent' });

    const month = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=month&from=2026-11-01&to=2026-11-30`, { token });
    expect(month.body.buckets).toHaveLength(1);
    expect(month.body.buckets[0]).toMatchObject({ start: '2026-11-01', end: '2026-11-30', present: 0, total: 3 });
  });

  test('a conditional request answers 304 until a new batch changes the user-days', async () => {
    const { school, ana, device } = await seededSchool();
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(day(ana.id, '2026-11-16', '08:00', '10:00')) }));
    const path = `/api/attendances/aggregate/school/${school.id}?period=day&from=2026-11-16&to=2026-11-16`;
    const first = await http(suite.url, 'GET', path, { token });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect((await http(suite.url, 'GET', path, { token, headers: { 'if-none-match': etag } })).status).toBe(304);
    expect(first.body.buckets[0].present).toBe(0);

    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(day(ana.id, '2026-11-16', '13:00', '16:00')) }));
    const after = await http(suite.url, 'GET', path, { token, headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(after.body.buckets[0].present).toBe(1); // 2 h + 3 h: a late batch changed the day
  });

  test('a school without devices answers a past range with a stable ETag, final buckets and 304s', async () => {
    const school = await aSchool(suite.db, { timezone: 'Europe/Paris' });
    await aUser(suite.db, school.id, { enrolled_on: '2026-01-01' });
    const path = `/api/attendances/aggregate/school/${school.id}?period=week&from=2026-03-09&to=2026-03-15`;
    // Nothing recorded yet: no data, neither absent nor final (DESIGN §4 "Counted days").
    const before = await http(suite.url, 'GET', path, { token });
    expect(before.body.buckets[0]).toMatchObject({ absent: 0, no_data: true, final: false, rate: null });
    // Recorded since January (staff say so): the week counts, and is final.
    await suite.db.updateTable('schools').set({ records_from: '2026-01-01' }).where('id', '=', school.id).execute();
    const first = await http(suite.url, 'GET', path, { token });
    const second = await http(suite.url, 'GET', path, { token });
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(first.body.buckets.map((b: any) => b.final)).toEqual([true]);
    expect(first.body.pending_devices).toEqual([]);
    expect((await http(suite.url, 'GET', path, { token, headers: { 'if-none-match': first.headers.get('etag')! } })).status).toBe(304);
  });

  test('buckets after the slowest device stay provisional and name it', async () => {
    const { school, ana, device } = await seededSchool();
    const silent = await aDevice(suite.db, school.id);
    await suite.db.updateTable('devices').set({ created_at: new Date('2026-11-09T12:00:00Z') }).where('id', '=', silent.id).execute();
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(day(ana.id, '2026-11-09', '08:00', '16:00')) }));
    const res = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=2026-11-08&to=2026-11-10`, { token });
    expect(res.body.buckets.map((b: any) => b.final)).toEqual([true, false, false]);
    expect(res.body.pending_devices.map((d: any) => d.id)).toEqual([silent.id]);
    expect(res.body.complete_until).toBe('2026-11-09T12:00:00.000Z');
  });

  test('who is checked in right now, and the live part of today', async () => {
    // Open every day, where it is mid-day: "today" is an open day whatever the date of the run.
    const { school, ana, ben, device } = await seededSchool({ timezone: middayZone(), school_days: EVERY_DAY });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await device.sync(batchZip({
      'device.xml': deviceXml(),
      'attendances.csv': attendancesCsv([
        { record_id: ++recordId, user_id: ana.id, type: 'checkin', occurred_at: iso(now - 60_000) },
        { record_id: ++recordId, user_id: ben.id, type: 'checkin', occurred_at: iso(now - 120_000) },
        { record_id: ++recordId, user_id: ben.id, type: 'checkout', occurred_at: iso(now - 60_000) },
      ]),
    }));
    const res = await http(suite.url, 'GET', `/api/schools/${school.id}/presence/now`, { token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: any) => i.user_id)).toEqual([ana.id]);
    const today = res.body.today;
    const figures = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=${today}&to=${today}`, { token });
    // Checked in now counts as present today, however short the stay so far.
    expect(figures.body.buckets[0]).toMatchObject({ present: 1, total: 3, final: false });
  });

  test('a school admin reads their own school only; bad ranges answer 422', async () => {
    const { school } = await seededSchool();
    const other = await aSchool(suite.db);
    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
    expect((await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?from=2026-11-01&to=2026-11-02`, { token: admin })).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/attendances/aggregate/school/${other.id}?from=2026-11-01&to=2026-11-02`, { token: admin })).status).toBe(404);
    expect((await http(suite.url, 'GET', `/api/schools/${other.id}/presence/now`, { token: admin })).status).toBe(404);
    const bad = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?from=2026-11-05&to=2026-11-01`, { token: admin });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('query.to');
    expect((await http(suite.url, 'GET', `/api/attendances/aggregate/school/${school.id}?from=2026-02-30&to=2026-03-01`, { token: admin })).status).toBe(422);
  });
});

describe('rebuild', () => {
  test('restores damaged user-days in weekly chunks with visible progress, and a second rebuild changes nothing', async () => {
    const { school, ana, ben, device } = await seededSchool();
    const rows: CsvAttendance[] = [];
    for (const date of ['2026-10-05', '2026-10-14', '2026-10-23', '2026-11-02']) rows.push(...day(ana.id, date, '08:00', '16:00'), ...day(ben.id, date, '09:00', null));
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
    const before = await suite.db.selectFrom('user_days').select(['user_id', 'date', 'seconds', 'anomalies']).where('school_id', '=', school.id).orderBy('user_id').orderBy('date').execute();
    expect(before).toHaveLength(8);
    await suite.db.updateTable('user_days').set({ seconds: 0, anomalies: [] }).where('school_id', '=', school.id).execute();
    await suite.db.deleteFrom('user_days').where('user_id', '=', ben.id).where('date', '=', '2026-10-14').execute();

    const started = await http(suite.url, 'POST', `/api/schools/${school.id}/rebuild-figures`, { token, body: { from: '2026-10-01', to: '2026-11-10' } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ chunks_total: 6, status: 'running' });
    const job = await waitForJob(started.body.id);
    expect(job).toMatchObject({ status: 'done', chunks_done: 6, days_changed: 8 });
    const after = await suite.db.selectFrom('user_days').select(['user_id', 'date', 'seconds', 'anomalies']).where('school_id', '=', school.id).orderBy('user_id').orderBy('date').execute();
    expect(after).toEqual(before);

    const again = await http(suite.url, 'POST', `/api/schools/${school.id}/rebuild-figures`, { token, body: { from: '2026-10-01', to: '2026-11-10' } });
    expect(await waitForJob(again.body.id)).toMatchObject({ status: 'done', days_changed: 0 });
  });

  test('only backoffice starts a rebuild', async () => {
    const { school } = await seededSchool();
    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
    const res = await http(suite.url, 'POST', `/api/schools/${school.id}/rebuild-figures`, { token: admin, body: { from: '2026-10-01', to: '2026-10-07' } });
    expect(res.status).toBe(403);
  });
});

/** The rebuild as the api reports it once the worker has no chunk left to run. */
async function waitForJob(id: number) {
  await suite.worker!.drain();
  const res = await http(suite.url, 'GET', `/api/jobs/${id}`, { token });
  return res.body;
}
