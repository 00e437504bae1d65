// Held v4 rows (docs/protocol/v4.md §4.5 "held rows", issue #27): an attendances.csv row refused as
// unknown_user or in_future keeps its answer in the package, and is also held on the server;
// staff see it with the PUSH ones, import it once as a user's (or the roster gains its badge),
// or discard it; a device sending it again never has it stored twice.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let staff: string;

beforeAll(async () => {
  staff = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
});

const imported = (pkg: Package) => pkg.all('import').find((i) => i.file === 'attendances.csv');
const zip = (rows: CsvAttendance[]) => batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) });
const held = async (schoolId: number) => {
  const res = await http(suite.url, 'GET', `/api/schools/${schoolId}/held-punches`, { token: staff });
  expect(res.status).toBe(200);
  return res.body.items as Array<Record<string, unknown>>;
};
const count = async (table: 'attendances' | 'held_punches' | 'fever_events', deviceId: string) =>
  (await suite.db.selectFrom(table).select(sql<number>`count(*)::int`.as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow()).n;

describe('held v4 rows', () => {
  test('unknown users and a clock ahead: answered as the protocol says, held once; mapped, roster-gained or discarded; a resend never stored twice', async () => {
    const school = await aSchool(suite.db, { timezone: 'Europe/Paris' });
    const known = await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' });
    const mapped = await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' });
    const device = await aDevice(suite.db, school.id);
    const dev = await new TestDevice(suite.url, device).signIn();
    const ahead = new Date(Date.now() + 3600_000).toISOString();
    const rows: CsvAttendance[] = [
      { record_id: 1, user_id: known.id, type: 'checkin', occurred_at: '2026-12-04T08:00:00+01:00' },
      { record_id: 2, user_id: 987654, type: 'checkin', occurred_at: '2026-12-04T08:00:00+01:00', temperature: '38.5' },
      { record_id: 3, user_id: 987654, type: 'checkout', occurred_at: '2026-12-04T16:00:00+01:00' },
      { record_id: 4, user_id: 'NEW-5', type: 'checkin', occurred_at: '2026-12-04T08:10:00+01:00' },
      { record_id: 5, user_id: known.id, type: 'checkout', occurred_at: ahead },
      // Broken in another way too: a rejection only, nothing to hold.
      { record_id: 6, user_id: 'NEW-6', type: 'sideways', occurred_at: '2026-12-04T08:10:00+01:00' },
    ];
    const first = await dev.sync(zip(rows));
    expect(imported(first.pkg)).toMatchObject({ received: '6', accepted: '1', rejected: '5' });
    expect(first.pkg.all('rejection').map((r) => [r.record_id, r.code]).sort()).toEqual([
      ['2', 'unknown_user'], ['3', 'unknown_user'], ['4', 'unknown_user'], ['5', 'in_future'], ['6', 'unknown_user'],
    ]);

    const base = { device_id: device.id, device_name: device.name, source: 'v4' };
    const listed = await held(school.id);
    expect(listed).toHaveLength(3);
    expect(listed).toEqual(expect.arrayContaining([
      { ...base, reason: 'unknown_user', pin: '987654', punches: 2, with_temperature: 1, first_at: '2026-12-04T07:00:00.000Z', last_at: '2026-12-04T15:00:00.000Z', user: null },
      { ...base, reason: 'unknown_user', pin: 'NEW-5', punches: 1, with_temperature: 0, first_at: '2026-12-04T07:10:00.000Z', last_at: '2026-12-04T07:10:00.000Z', user: null },
      expect.objectContaining({ ...base, reason: 'in_future', pin: String(known.id), punches: 1, user: { id: known.id, name: known.name } }),
    ]));

    // The same batch again: the same answers, nothing held twice.
    const again = await dev.sync(zip(rows));
    expect(imported(again.pkg)).toMatchObject({ received: '6', accepted: '0', duplicates: '1', rejected: '5' });
    expect(await count('held_punches', device.id)).toBe(4);

    // The roster gains the device's own id as a badge: imported in the same request, once.
    const created = await http(suite.url, 'POST', '/api/users', { token: staff, body: { school_id: school.id, name: 'New pupil', badge: 'NEW-5', enrolled_on: '2026-10-01' } });
    expect(created.status).toBe(201);
    const gained = await suite.db.selectFrom('attendances').select(['user_id', 'record_id', 'type', 'session_id']).where('device_id', '=', device.id).where('record_id', '=', 4).execute();
    expect(gained).toEqual([{ user_id: created.body.id, record_id: 4, type: 'checkin', session_id: first.sessionId }]);

    // Staff map the unknown id to a user: stored as that user's, the fever raised, the day computed; once.
    const done = await http(suite.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '987654', user_id: mapped.id } });
    expect([done.status, done.body]).toEqual([200, { imported: 2, already: 0 }]);
    const fevers = await suite.db.selectFrom('fever_events').select(['user_id', 'record_id', sql<number>`temperature::float8`.as('t')]).where('device_id', '=', device.id).execute();
    expect(fevers).toEqual([{ user_id: mapped.id, record_id: 2, t: 38.5 }]);
    const day = await suite.db.selectFrom('user_days').select(['seconds']).where('user_id', '=', mapped.id).where('date', '=', '2026-12-04').executeTakeFirst();
    expect(day?.seconds).toBe(8 * 3600);
    const twice = await http(suite.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '987654', user_id: mapped.id } });
    expect(twice.body).toEqual({ imported: 0, already: 0 });

    // The device sends the rows again after the mapping: refused as before, stored once, no second fever.
    const third = await dev.sync(zip(rows));
    expect(imported(third.pkg)).toMatchObject({ accepted: '0', rejected: '5' });
    expect(await count('attendances', device.id)).toBe(4);
    expect(await count('fever_events', device.id)).toBe(1);
    expect(await count('held_punches', device.id)).toBe(4);

    // What is left is the clock ahead: discarded, with who did it; no longer listed, never imported.
    expect((await held(school.id)).map((g) => [g.reason, g.pin])).toEqual([['in_future', String(known.id)]]);
    const discarded = await http(suite.url, 'POST', `/api/schools/${school.id}/held-punches/discard`, { token: staff, body: { pin: String(known.id), reason: 'in_future' } });
    expect([discarded.status, discarded.body]).toEqual([200, { discarded: 1 }]);
    expect(await held(school.id)).toEqual([]);
    const row = await suite.db.selectFrom('held_punches').select(['discarded_at', 'discarded_by', 'imported_at']).where('device_id', '=', device.id).where('record_id', '=', 5).executeTakeFirstOrThrow();
    expect(row.discarded_at).not.toBeNull();
    expect(row.discarded_by).not.toBeNull();
    expect(row.imported_at).toBeNull();
    const released = await http(suite.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: String(known.id), reason: 'in_future' } });
    expect(released.body).toEqual({ imported: 0, already: 0 });
  });

  test('a user given the badge by PATCH has its held rows imported', async () => {
    const school = await aSchool(suite.db, { timezone: 'Europe/Paris' });
    const pupil = await aUser(suite.db, school.id, { enrolled_on: '2026-10-01' });
    const device = await aDevice(suite.db, school.id);
    const dev = await new TestDevice(suite.url, device).signIn();
    await dev.sync(zip([{ record_id: 7, user_id: 'TAB-9', type: 'checkin', occurred_at: '2026-12-04T08:00:00+01:00' }]));
    expect((await held(school.id)).map((g) => g.pin)).toEqual(['TAB-9']);
    const patched = await http(suite.url, 'PATCH', `/api/users/${pupil.id}`, { token: staff, body: { badge: 'TAB-9' } });
    expect(patched.status).toBe(200);
    expect(await suite.db.selectFrom('attendances').select(['user_id', 'record_id']).where('device_id', '=', device.id).execute()).toEqual([{ user_id: pupil.id, record_id: 7 }]);
    expect(await held(school.id)).toEqual([]);

  });
});
