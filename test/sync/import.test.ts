// docs/protocol/v4.md §4–§5 through the whole stack: what the worker stores for a batch and what the
// package says about it — rows, every rejection code, duplicates and conflicts across batches,
// conservation, fever events, user-days, clock skew, CRLF/BOM/quoted CSV, and the sample
// archives of fixtures/archives (zips written by our builder, Python's zipfile and Info-ZIP).
//
// The fixtures name users 1–5: this suite's database is fresh, so the first school's first
// five users get exactly those ids (checked in beforeAll).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { ROW_REJECTION_CODES } from '../../shared/protocol/codes.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aUser, someUsers } from '../support/fixtures.js';
import { fixtureArchive } from './helpers.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let schoolId: number;
const FIXTURE_CLOCK = new Date('2026-11-20T08:00:00+07:00');
/** Sessions whose device.xml could not be read: the only ones allowed to have no clock skew. */
const noClock = new Set<string>();

beforeAll(async () => {
  // The archives of fixtures/ name school 1 and users 1–5: those ids are given here rather than
  // hoped for from fresh sequences, which are then moved past them for every row made later.
  schoolId = 1;
  await sql`INSERT INTO schools (id, name, timezone) OVERRIDING SYSTEM VALUE VALUES (${schoolId}, 'Fixture school', 'Asia/Ho_Chi_Minh')`.execute(suite.db);
  await sql`INSERT INTO users (id, school_id, name, badge) OVERRIDING SYSTEM VALUE
    SELECT id, ${schoolId}, 'Fixture user ' || id, 'FX' || id FROM generate_series(1, 5) AS id`.execute(suite.db);
  for (const table of ['schools', 'users']) {
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT max(id) FROM ${sql.table(table)}))`.execute(suite.db);
  }
});

async function newDevice(school = schoolId): Promise<TestDevice> {
  return new TestDevice(suite.url, await aDevice(suite.db, school)).signIn();
}

async function syncFixture(name: string) {
  const dev = await newDevice();
  const { sessionId, pkg } = await dev.sync(fixtureArchive(name));
  return { dev, sessionId, pkg };
}

function storedRows(deviceId: string) {
  return suite.db.selectFrom('attendances')
    .select(['record_id', 'user_id', 'type', 'occurred_at', 'temperature', 'photo', 'clock_suspect', 'session_id', 'school_id'])
    .where('device_id', '=', deviceId).orderBy('record_id').execute();
}

const imported = (pkg: Package) => pkg.all('import').find((i) => i.file === 'attendances.csv');

/** The ten rows of valid-small.zip as the server must hold them. */
const VALID_SMALL = [
  [1, 1, 'checkin', '2026-11-16T00:30:00.000Z', 36.6, 'p0001.jpg'],
  [2, 2, 'checkin', '2026-11-16T00:32:10.000Z', null, null],
  [3, 3, 'checkin', '2026-11-17T00:35:00.000Z', 36.9, null],
  [4, 1, 'checkout', '2026-11-17T09:45:00.000Z', null, null],
  [5, 4, 'checkin', '2026-11-18T00:29:59.000Z', 37.1, 'p0005.jpg'],
  [6, 5, 'checkin', '2026-11-18T00:31:00.250Z', null, null],
  [7, 2, 'checkout', '2026-11-18T09:40:00.000Z', 36.4, null],
  [8, 3, 'checkout', '2026-11-19T09:50:00.000Z', null, null],
  [9, 4, 'checkout', '2026-11-20T09:55:00.000Z', null, null],
  [10, 5, 'checkout', '2026-11-20T10:05:00.000Z', 36.8, null],
].map(([record_id, user_id, type, at, temperature, photo]) => ({ record_id, user_id, type, occurred_at: new Date(at as string), temperature, photo }));

describe('fixtures/archives', () => {
  test('valid-small.zip: ten rows stored, the package says so, the device clock is kept', async () => {
    const { dev, sessionId, pkg } = await syncFixture('valid-small.zip');
    expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '10', accepted: '10', duplicates: '0', rejected: '0', high_water_mark: '10' });
    expect(pkg.all('rejection')).toEqual([]);
    expect(pkg.all('error')).toEqual([]);

    const rows = await storedRows(dev.identity.id);
    expect(rows.map(({ record_id, user_id, type, occurred_at, temperature, photo }) => ({ record_id, user_id, type, occurred_at, temperature, photo }))).toEqual(VALID_SMALL);
    expect(new Set(rows.map((r) => r.session_id))).toEqual(new Set([sessionId]));
    expect(rows.every((r) => r.school_id === schoolId)).toBe(true);

    // device.xml says 2026-11-20T08:00+07:00, days before the server received it: suspect rows, <clock> sent down.
    const session = await suite.db.selectFrom('sync_sessions').selectAll().where('id', '=', sessionId).executeTakeFirstOrThrow();
    const expectedSkew = Math.round((FIXTURE_CLOCK.getTime() - session.received_at.getTime()) / 1000);
    expect(session.device_clock).toEqual(FIXTURE_CLOCK);
    expect(session.clock_skew_seconds).toBe(expectedSkew);
    expect(rows.every((r) => r.clock_suspect)).toBe(true);
    expect(pkg.all('clock')).toEqual([{ server_time: expect.any(String), skew_seconds: String(expectedSkew) }]);
    expect(session.stats).toEqual({ 'attendances.csv': { received: 10, accepted: 10, duplicates: 0, rejected: 0, high_water_mark: 10 } });

    const device = await suite.db.selectFrom('devices').selectAll().where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(device).toMatchObject({ firmware: '2.4.1', reported_timezone: 'Asia/Ho_Chi_Minh', pending_records: 0, roster_version: 41, clock_skew_seconds: expectedSkew });
    expect(device.last_synced_at).toBeInstanceOf(Date);
    expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 10 });

    // Every touched local day (Asia/Ho_Chi_Minh) has its user-day, marked clock_suspect like its rows.
    const days = await suite.db.selectFrom('user_days').select(['user_id', 'date', 'clock_suspect', 'last_event_type'])
      .where('user_id', 'in', [1, 2, 3, 4, 5]).orderBy('user_id').orderBy('date').execute();
    expect(days.map((d) => `${d.user_id}@${d.date}`)).toEqual([
      '1@2026-11-16', '1@2026-11-17', '2@2026-11-16', '2@2026-11-18', '3@2026-11-17', '3@2026-11-19',
      '4@2026-11-18', '4@2026-11-20', '5@2026-11-18', '5@2026-11-20',
    ]);
    expect(days.every((d) => d.clock_suspect)).toBe(true);
  });

  test.each(['python-zipfile.zip', 'info-zip.zip'])('%s (a zip from a common tool) is accepted and imported like valid-small', async (name) => {
    const bytes = fixtureArchive(name);
    expect(Buffer.compare(bytes, fixtureArchive('valid-small.zip'))).not.toBe(0);
    const { dev, pkg } = await syncFixture(name);
    expect(imported(pkg)).toMatchObject({ received: '10', accepted: '10', duplicates: '0', rejected: '0', high_water_mark: '10' });
    const rows = await storedRows(dev.identity.id);
    expect(rows.map(({ record_id, user_id, type, occurred_at, temperature, photo }) => ({ record_id, user_id, type, occurred_at, temperature, photo }))).toEqual(VALID_SMALL);
  });

  test('valid-with-settings.zip: the reported settings are kept on the device', async () => {
    const { dev, pkg } = await syncFixture('valid-with-settings.zip');
    expect(imported(pkg)).toMatchObject({ accepted: '10' });
    expect(pkg.all('error')).toEqual([]);
    const device = await suite.db.selectFrom('devices').select('reported_settings').where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(device.reported_settings).toEqual({ sync_interval_seconds: '300', screen_brightness: '80', welcome_text: 'Xin chào & welcome', language: 'vi' });
  });

  test('bad-row-codes.zip: every row code of §4 in <rejection>, by line and record id; counts conserved', async () => {
    const { dev, sessionId, pkg } = await syncFixture('bad-row-codes.zip');
    expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '15', accepted: '3', duplicates: '1', rejected: '11', high_water_mark: '112' });

    const rejections = pkg.all('rejection').sort((a, b) => Number(a.line) - Number(b.line));
    expect(rejections).toEqual([
      { file: 'attendances.csv', line: '3', code: 'malformed_row', detail: 'expected 6 fields, got 3' },
      { file: 'attendances.csv', line: '4', code: 'invalid_record_id', detail: 'record_id: "abc" is not an integer from 1 to 2^53-1' },
      { file: 'attendances.csv', line: '5', record_id: '103', code: 'unknown_user', detail: 'user_id 999999 is not a user of this school' },
      { file: 'attendances.csv', line: '6', record_id: '104', code: 'unknown_user', detail: 'user_id: "not-a-user" is not a user id (an integer from 1 to 2147483647)' },
      { file: 'attendances.csv', line: '7', record_id: '105', code: 'invalid_type', detail: 'type: "arrive" is not checkin or checkout' },
      { file: 'attendances.csv', line: '8', record_id: '106', code: 'invalid_timestamp', detail: 'occurred_at: "2026-11-18 07:35:00" is not an ISO 8601 time with offset (or Z) on a real date' },
      { file: 'attendances.csv', line: '9', record_id: '107', code: 'invalid_timestamp', detail: 'occurred_at: "2026-02-30T07:35:00Z" is not an ISO 8601 time with offset (or Z) on a real date' },
      { file: 'attendances.csv', line: '10', record_id: '108', code: 'in_future', detail: expect.stringMatching(/^occurred_at: "2099-01-01T00:00:00Z" is more than 5 minutes after the server received the batch \(\d{4}-/) },
      { file: 'attendances.csv', line: '11', record_id: '109', code: 'temperature_out_of_range', detail: 'temperature: "45.2" is not a plain decimal from 28.0 to 43.0 (°C)' },
      { file: 'attendances.csv', line: '13', record_id: '110', code: 'record_conflict', detail: 'record_id 110 is already held for this device with other content' },
      { file: 'attendances.csv', line: '15', code: 'malformed_row', detail: 'a quoted field spans lines' },
    ]);
    // Every code an attendances.csv row can get (the marks.csv codes of the appel channel are tested in test/channels/appel.test.ts).
    const marksOnly = new Set(['invalid_date', 'invalid_period', 'invalid_mark', 'invalid_reason']);
    expect(new Set(rejections.map((r) => r.code))).toEqual(new Set(ROW_REJECTION_CODES.filter((c) => !marksOnly.has(c))));

    // The same rejections are stored with the session.
    const stored = await suite.db.selectFrom('rejections').select(['line', 'record_id', 'code']).where('session_id', '=', sessionId).orderBy('line').execute();
    expect(stored.map((r) => [r.line, r.record_id, r.code])).toEqual(rejections.map((r) => [Number(r.line), r.record_id ?? null, r.code]));

    // Lines 2, 12, 16 stored; line 13 did not replace line 12; line 14 not stored twice.
    const rows = await storedRows(dev.identity.id);
    expect(rows.map((r) => [r.record_id, r.user_id, r.type])).toEqual([[101, 1, 'checkin'], [110, 3, 'checkout'], [112, 5, 'checkout']]);
  });

  test('crlf-bom-quoted.zip: BOM, CRLF, quotes, shuffled and unknown columns, a blank line → 4 rows', async () => {
    const { dev, pkg } = await syncFixture('crlf-bom-quoted.zip');
    expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '4', accepted: '4', duplicates: '0', rejected: '0', high_water_mark: '204' });
    expect(pkg.all('rejection')).toEqual([]);
    const rows = await storedRows(dev.identity.id);
    expect(rows.map(({ record_id, user_id, type, occurred_at, temperature, photo }) => ({ record_id, user_id, type, occurred_at, temperature, photo }))).toEqual([
      { record_id: 201, user_id: 1, type: 'checkin', occurred_at: new Date('2026-11-19T00:30:00Z'), temperature: 36.6, photo: null },
      { record_id: 202, user_id: 1, type: 'checkout', occurred_at: new Date('2026-11-19T16:30:00Z'), temperature: null, photo: null },
      { record_id: 203, user_id: 2, type: 'checkin', occurred_at: new Date('2026-11-19T00:31:00Z'), temperature: null, photo: null },
      { record_id: 204, user_id: 2, type: 'checkout', occurred_at: new Date('2026-11-19T09:31:00Z'), temperature: 37, photo: null },
    ]);
  });

  test.each(['lying-size.zip', 'bad-crc.zip'])('%s: accepted, then attendances.csv reported file_corrupt; device.xml still read', async (name) => {
    const { dev, sessionId, pkg } = await syncFixture(name);
    expect(pkg.all('error')).toEqual([{ file: 'attendances.csv', code: 'file_corrupt', detail: expect.any(String) }]);
    expect(imported(pkg)).toBeUndefined();
    expect(await storedRows(dev.identity.id)).toEqual([]);
    const session = await suite.db.selectFrom('sync_sessions').select(['outcome', 'attempts', 'clock_skew_seconds']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(session).toMatchObject({ outcome: 'partial', attempts: 1, clock_skew_seconds: expect.any(Number) });
    expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 0 });
  });
});

describe('rows across batches', () => {
  const row = (record_id: number, user_id: number, type: string, occurred_at: string, temperature?: string): CsvAttendance => ({ record_id, user_id, type, occurred_at, temperature });
  const zip = (rows: CsvAttendance[]) => batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) });

  test('duplicates are counted, not stored twice; the same record_id with other content is record_conflict and the stored row is kept', async () => {
    const dev = await newDevice();
    const first = [
      row(1, 1, 'checkin', '2026-11-10T08:00:00+07:00'), row(2, 2, 'checkin', '2026-11-10T08:01:00+07:00'),
      row(3, 1, 'checkout', '2026-11-10T12:00:00+07:00'), row(4, 2, 'checkout', '2026-11-10T12:01:00+07:00'),
      row(5, 3, 'checkin', '2026-11-10T08:02:00+07:00'),
    ];
    const a = await dev.sync(zip(first));
    expect(imported(a.pkg)).toMatchObject({ received: '5', accepted: '5', duplicates: '0', rejected: '0', high_water_mark: '5' });

    // The device did not get the package and sends rows 3–5 again with 6–8 (a FULL_RESYNC looks the same).
    const b = await dev.sync(zip([...first.slice(2), row(6, 3, 'checkout', '2026-11-10T12:02:00+07:00'), row(7, 4, 'checkin', '2026-11-11T08:00:00+07:00'), row(8, 4, 'checkout', '2026-11-11T12:00:00+07:00')]));
    expect(imported(b.pkg)).toMatchObject({ received: '6', accepted: '3', duplicates: '3', rejected: '0', high_water_mark: '8' });
    expect(b.pkg.all('rejection')).toEqual([]);

    // The device was reset and reuses ids 4 and 9.
    const c = await dev.sync(zip([row(4, 5, 'checkin', '2026-11-12T08:00:00+07:00'), row(9, 5, 'checkout', '2026-11-12T12:00:00+07:00')]));
    expect(imported(c.pkg)).toMatchObject({ received: '2', accepted: '1', duplicates: '0', rejected: '1', high_water_mark: '9' });
    expect(c.pkg.all('rejection')).toEqual([{ file: 'attendances.csv', line: '2', record_id: '4', code: 'record_conflict', detail: 'record_id 4 is already held for this device with other content' }]);

    const rows = await storedRows(dev.identity.id);
    expect(rows.map((r) => r.record_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows.find((r) => r.record_id === 4)).toMatchObject({ user_id: 2, type: 'checkout', session_id: a.sessionId });
    expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 9 });
  });

  test('the same record ids from another device are other rows', async () => {
    const one = await newDevice();
    const two = await newDevice();
    const bytes = zip([row(1, 1, 'checkin', '2026-11-13T08:00:00+07:00')]);
    expect(imported((await one.sync(bytes)).pkg)).toMatchObject({ accepted: '1' });
    expect(imported((await two.sync(bytes)).pkg)).toMatchObject({ accepted: '1', duplicates: '0' });
  });

  test('unknown_user for a user of another school, like for no user at all; a deactivated user of the school is accepted', async () => {
    const otherSchool = await aSchool(suite.db);
    const foreign = await aUser(suite.db, otherSchool.id);
    const leaver = await aUser(suite.db, schoolId);
    await suite.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', leaver.id).execute();
    const dev = await newDevice();
    const { pkg } = await dev.sync(zip([
      row(1, foreign.id, 'checkin', '2026-11-13T08:00:00+07:00'),
      row(2, 987654, 'checkin', '2026-11-13T08:00:00+07:00'),
      row(3, leaver.id, 'checkin', '2026-11-13T08:00:00+07:00'),
    ]));
    expect(imported(pkg)).toMatchObject({ received: '3', accepted: '1', rejected: '2' });
    expect(pkg.all('rejection').map((r) => [r.record_id, r.code])).toEqual([['1', 'unknown_user'], ['2', 'unknown_user']]);
  });
});

describe('what the import computes beside the rows', () => {
  test('fever events for temperatures at or above the school threshold, once', async () => {
    const dev = await newDevice();
    const bytes = batchZip({
      'device.xml': deviceXml(),
      'attendances.csv': attendancesCsv([
        { record_id: 1, user_id: 1, type: 'checkin', occurred_at: '2026-11-14T07:30:00+07:00', temperature: '38.2' },
        { record_id: 2, user_id: 2, type: 'checkin', occurred_at: '2026-11-14T07:31:00+07:00', temperature: '37.5' },
        { record_id: 3, user_id: 3, type: 'checkin', occurred_at: '2026-11-14T07:32:00+07:00', temperature: '37.4' },
        { record_id: 4, user_id: 4, type: 'checkin', occurred_at: '2026-11-14T07:33:00+07:00' },
      ]),
    });
    const { sessionId } = await dev.sync(bytes);
    const fevers = await suite.db.selectFrom('fever_events as f').innerJoin('attendances as a', 'a.id', 'f.attendance_id')
      .select(['f.user_id', 'f.record_id', 'f.temperature', 'f.source', 'f.occurred_at', 'a.session_id', 'f.device_id'])
      .where('f.device_id', '=', dev.identity.id).orderBy('f.record_id').execute();
    expect(fevers).toEqual([
      { user_id: 1, record_id: 1, temperature: 38.2, source: 'attendance', occurred_at: new Date('2026-11-14T00:30:00Z'), session_id: sessionId, device_id: dev.identity.id },
      { user_id: 2, record_id: 2, temperature: 37.5, source: 'attendance', occurred_at: new Date('2026-11-14T00:31:00Z'), session_id: sessionId, device_id: dev.identity.id },
    ]);
    // Sent again: duplicates, and no second fever event.
    await dev.sync(bytes);
    const count = await suite.db.selectFrom('fever_events').select((eb) => eb.fn.countAll<number>().as('n')).where('device_id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  test('user_days are filled in the same transaction: seconds, first check-in, last event', async () => {
    const dev = await newDevice();
    const [user] = await someUsers(suite.db, schoolId, 1);
    await dev.sync(batchZip({
      'device.xml': deviceXml(),
      'attendances.csv': attendancesCsv([
        { record_id: 1, user_id: user.id, type: 'checkin', occurred_at: '2026-11-19T08:00:00+07:00' },
        { record_id: 2, user_id: user.id, type: 'checkout', occurred_at: '2026-11-19T12:00:00+07:00' },
        { record_id: 3, user_id: user.id, type: 'checkin', occurred_at: '2026-11-19T13:00:00+07:00' },
        { record_id: 4, user_id: user.id, type: 'checkout', occurred_at: '2026-11-19T16:30:00+07:00' },
      ]),
    }));
    const days = await suite.db.selectFrom('user_days').selectAll().where('user_id', '=', user.id).execute();
    expect(days).toHaveLength(1);
    expect(days[0]).toMatchObject({
      school_id: schoolId, date: '2026-11-19', seconds: 4 * 3600 + 3.5 * 3600, first_checkin_at: new Date('2026-11-19T01:00:00Z'),
      last_event_at: new Date('2026-11-19T09:30:00Z'), last_event_type: 'checkout', open_since: null, anomalies: [], clock_suspect: false,
    });
  });

  test.each([
    ['30 s ahead', 30, false, false],
    ['2 minutes behind', -120, true, false],
    ['10 minutes ahead', 600, true, true],
    ['6 minutes behind', -360, true, true],
  ])('device clock %s (%i s): skew kept on the session and device; <clock> sent: %s; clock_suspect: %s', async (_label, skew, clockSent, suspect) => {
    const dev = await newDevice();
    const [user] = await someUsers(suite.db, schoolId, 1);
    const { sessionId, pkg } = await dev.sync(batchZip({
      'device.xml': deviceXml({ clock: new Date(Date.now() + skew * 1000) }),
      'attendances.csv': attendancesCsv([{ record_id: 1, user_id: user.id, type: 'checkin', occurred_at: '2026-11-19T08:00:00+07:00' }]),
    }));
    const session = await suite.db.selectFrom('sync_sessions').select(['clock_skew_seconds', 'device_clock']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(Math.abs(session.clock_skew_seconds! - skew)).toBeLessThanOrEqual(5);
    expect(session.device_clock).toBeInstanceOf(Date);
    const device = await suite.db.selectFrom('devices').select('clock_skew_seconds').where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(device.clock_skew_seconds).toBe(session.clock_skew_seconds);
    expect(pkg.all('clock')).toHaveLength(clockSent ? 1 : 0);
    if (clockSent) expect(pkg.all('clock')[0].skew_seconds).toBe(String(session.clock_skew_seconds));
    const [stored] = await storedRows(dev.identity.id);
    expect(stored.clock_suspect).toBe(suspect);
    const day = await suite.db.selectFrom('user_days').select('clock_suspect').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(day.clock_suspect).toBe(suspect);
  });

  test('a file that cannot be read is an <error> for that file; the other files are still imported', async () => {
    const badXml = await newDevice();
    const a = await badXml.sync(batchZip({
      'device.xml': '<device><firmware>2.4.1</firmware><clock>yesterday</clock></device>',
      'attendances.csv': attendancesCsv([{ record_id: 1, user_id: 1, type: 'checkin', occurred_at: '2026-11-19T08:00:00+07:00' }]),
    }));
    noClock.add(a.sessionId);
    expect(a.pkg.all('error')).toEqual([{ file: 'device.xml', code: 'xml_invalid', detail: expect.any(String) }]);
    expect(imported(a.pkg)).toMatchObject({ accepted: '1' });

    const badCsv = await newDevice();
    const b = await badCsv.sync(batchZip({
      'device.xml': deviceXml(),
      'settings.xml': '<settings><sync_interval_seconds>120</sync_interval_seconds></settings>',
      'attendances.csv': 'record_id,user_id,type\n1,1,checkin\n',
    }));
    expect(b.pkg.all('error')).toEqual([{ file: 'attendances.csv', code: 'csv_invalid', detail: expect.any(String) }]);
    expect(imported(b.pkg)).toBeUndefined();
    const device = await suite.db.selectFrom('devices').select('reported_settings').where('id', '=', badCsv.identity.id).executeTakeFirstOrThrow();
    expect(device.reported_settings).toEqual({ sync_interval_seconds: '120' });
  });
});

test('conservation: every imported batch of this suite stored received = accepted + duplicates + rejected', async () => {
  // Batches of its own first (new rows, every row code, the same rows again, then some old and
  // some new), so that it holds when run alone; run with the others, it checks theirs too.
  for (const name of ['valid-small.zip', 'bad-row-codes.zip', 'crlf-bom-quoted.zip']) {
    const { dev } = await syncFixture(name);
    await dev.sync(fixtureArchive(name));
    await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([9, 10, 11, 12].map((id) => ({
      record_id: id, user_id: 1 + (id % 5), type: 'checkin', occurred_at: `2026-11-19T0${id - 8}:00:00+07:00`,
    }))) }));
  }
  const sessions = await suite.db.selectFrom('sync_sessions').select(['id', 'stats', 'outcome', 'clock_skew_seconds']).where('outcome', '=', 'imported').execute();
  expect(sessions.length).toBeGreaterThanOrEqual(9);
  let files = 0;
  for (const s of sessions) {
    for (const stats of Object.values(s.stats ?? {})) {
      files++;
      expect(stats.received).toBe(stats.accepted + stats.duplicates + stats.rejected);
    }
    // Every batch whose device.xml was readable kept the device clock skew.
    if (!noClock.has(s.id)) expect(s.clock_skew_seconds === null ? s.id : null).toBeNull();
  }
  expect(files).toBeGreaterThanOrEqual(9);
});
