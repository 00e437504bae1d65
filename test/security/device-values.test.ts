// Values from a device that do not fit: a clock far off (2100, 9999, year 1), counts of 15
// digits, rows dated before any device of this protocol existed. None may block a batch; each
// is either stored as said, or reported back on its row (issue 17 §1).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';
import { http } from '../support/http.js';
import { aStaff, loginAs } from '../support/fixtures.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let schoolId: number;
let userIds: number[];

beforeAll(async () => {
  stack = await startStack({ worker: true, env: { IMPORT_RETRY_LIMIT: '0' } });
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
  userIds = (await someUsers(db.db, schoolId, 5)).map((u) => u.id);
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

/** Five valid check-ins of yesterday, record ids from `first`. */
function fiveRows(first = 1) {
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  return userIds.map((user, i) => ({ record_id: first + i, user_id: user, type: 'checkin', occurred_at: `${day}T08:0${i}:00Z` }));
}

async function newDevice(): Promise<TestDevice> {
  return new TestDevice(stack.url, await aDevice(db.db, schoolId)).signIn();
}

describe('a device clock far off', () => {
  test.each(['2100-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z'])('clock %s: the batch imports, the skew is kept, device and rows are flagged', async (clock) => {
    const dev = await newDevice();
    const { sessionId, pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml({ clock }), 'attendances.csv': attendancesCsv(fiveRows()) }));
    expect(pkg.all('error')).toEqual([]);
    expect(pkg.all('import')[0]).toMatchObject({ file: 'attendances.csv', accepted: '5', rejected: '0' });

    const expected = Math.round((new Date(clock).getTime() - Date.now()) / 1000);
    const clockLine = pkg.all('clock')[0];
    expect(Math.abs(Number(clockLine.skew_seconds) - expected)).toBeLessThan(120);

    const session = await db.db.selectFrom('sync_sessions').select(['outcome', 'clock_skew_seconds']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(session.outcome).toBe('imported');
    expect(Number(session.clock_skew_seconds)).toBe(Number(clockLine.skew_seconds));

    const rows = await db.db.selectFrom('attendances').select('clock_suspect').where('device_id', '=', dev.identity.id).execute();
    expect(rows.map((r) => r.clock_suspect)).toEqual([true, true, true, true, true]);

    // The office sees the device's clock is off; its figures do not count it complete until 2100.
    const admin = await aStaff(db.db, 'school_admin', schoolId);
    const shown = await http(stack.url, 'GET', `/api/devices/${dev.identity.id}`, { token: await loginAs(stack.url, admin) });
    expect(shown.status).toBe(200);
    expect(shown.body.attention_reasons).toContain('clock_off');
    expect(shown.body.clock_skew_seconds).toBe(Number(clockLine.skew_seconds));
    const device = await db.db.selectFrom('devices').select('last_device_clock').where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(device.last_device_clock!.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('counts and dates out of any plausible range', () => {
  test('pending_records and roster_version of 15 digits are stored as said', async () => {
    const dev = await newDevice();
    const xml = deviceXml({ pendingRecords: 999_999_999_999_999, rosterVersion: 999_999_999_999_999 });
    const { pkg } = await dev.sync(batchZip({ 'device.xml': xml, 'attendances.csv': attendancesCsv(fiveRows()) }));
    expect(pkg.all('import')[0]).toMatchObject({ accepted: '5' });
    const device = await db.db.selectFrom('devices').select(['pending_records', 'roster_version']).where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(Number(device.pending_records)).toBe(999_999_999_999_999);
  });

  test('rows dated before 2010 (year 1, a reset clock of 1970) are rejected as invalid_timestamp; the others import', async () => {
    const dev = await newDevice();
    const rows = [
      ...fiveRows(),
      { record_id: 6, user_id: userIds[0], type: 'checkout', occurred_at: '0001-01-01T00:00:00Z' },
      { record_id: 7, user_id: userIds[1], type: 'checkout', occurred_at: '1970-01-01T00:00:07Z' },
      { record_id: 8, user_id: userIds[2], type: 'checkout', occurred_at: '2009-12-31T23:59:59Z' },
    ];
    const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
    expect(pkg.all('import')[0]).toMatchObject({ received: '8', accepted: '5', rejected: '3' });
    expect(pkg.all('rejection').map((r) => [r.record_id, r.code])).toEqual([['6', 'invalid_timestamp'], ['7', 'invalid_timestamp'], ['8', 'invalid_timestamp']]);
  });

  test('record ids up to 2^53−1 are stored; one more is invalid_record_id', async () => {
    const dev = await newDevice();
    const rows = fiveRows().slice(0, 2).map((r, i) => ({ ...r, record_id: i === 0 ? '9007199254740991' : '9007199254740992' }));
    const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
    expect(pkg.all('import')[0]).toMatchObject({ accepted: '1', rejected: '1', high_water_mark: '9007199254740991' });
    expect(pkg.all('rejection')[0]).toMatchObject({ code: 'invalid_record_id' });
  });

  // PostgreSQL text and jsonb cannot hold U+0000: it must be refused before it reaches them.
  test('a setting holding a NUL character is xml_invalid and the rest of the batch imports', async () => {
    const dev = await newDevice();
    const settings = '<settings><sync_interval_seconds>300\u0000</sync_interval_seconds></settings>';
    const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'settings.xml': settings, 'attendances.csv': attendancesCsv(fiveRows()) }));
    expect(pkg.all('error')).toEqual([expect.objectContaining({ file: 'settings.xml', code: 'xml_invalid' })]);
    expect(pkg.all('import')[0]).toMatchObject({ accepted: '5' });
  });
});
