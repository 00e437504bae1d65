// A long attendances.csv is read, staged and reported in chunks (CHUNK_ROWS valid rows,
// channels/kit/csv-log.ts; COPY pieces of 64 KiB, channels/synchro/attendances-log.ts): what the
// device gets back must not depend on where they fall. Each batch here runs over several chunks
// before, or after, anything unusual shows.
import { expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';
import { attendanceCount } from './helpers.js';

const suite = useSuite({ worker: true });
const imported = (pkg: Package) => pkg.all('import').find((i) => i.file === 'attendances.csv');
const DAY = '2026-11-10';
const at = (minute: number) => new Date(Date.parse(`${DAY}T06:00:00Z`) + minute * 60_000).toISOString();
const USERS = 40;

async function setup() {
  const school = await aSchool(suite.db, { timezone: 'UTC', fever_threshold: 37.5 });
  const ids = (await someUsers(suite.db, school.id, USERS)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  return { school, ids, dev };
}

/** `n` rows of new record ids (from 1), each user checking in and out by turns through the day. */
function newRows(n: number, ids: number[]): CsvAttendance[] {
  return Array.from({ length: n }, (_, i) => ({
    record_id: i + 1, user_id: ids[i % ids.length], type: Math.floor(i / ids.length) % 2 ? 'checkout' : 'checkin', occurred_at: at(Math.floor(i / ids.length) % 900),
  }));
}

const sync = (dev: TestDevice, rows: CsvAttendance[]) => dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));

const keyCount = async (deviceId: string) => Number((await suite.db.selectFrom('attendance_keys').select((eb) => eb.fn.countAll<number>().as('n'))
  .where('device_id', '=', deviceId).executeTakeFirstOrThrow()).n);

test('45,000 new rows: every row once with its key, rows refused as read in line order, the future held, fevers from the temperature sent', async () => {
  const { school, ids, dev } = await setup();
  const rows = newRows(45_000, ids);
  rows[2] = { ...rows[2], temperature: '38.04' }; // line 4: a fever
  rows[8] = { ...rows[8], type: 'sleep' as 'checkin' }; // line 10: invalid_type
  rows[29_998] = { ...rows[29_998], occurred_at: '2099-01-01T00:00:00Z' }; // line 30,000: in_future, held
  rows[39_999] = { ...rows[39_999], temperature: '37.46' }; // line 40,001: below the threshold as sent (stored as 37.5)
  rows[44_000] = { ...rows[44_000], temperature: '39.1' }; // line 44,002: a fever near the end

  const { sessionId, pkg } = await sync(dev, rows);
  expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '45000', accepted: '44998', duplicates: '0', rejected: '2', high_water_mark: '45000' });
  expect(pkg.all('rejection').map((r) => [r.line, r.record_id, r.code])).toEqual([['10', '9', 'invalid_type'], ['30000', '29999', 'in_future']]);
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(44_998);
  expect(await keyCount(dev.identity.id)).toBe(44_998);

  const fevers = await suite.db.selectFrom('fever_events').select(['record_id', 'temperature', 'user_id']).where('device_id', '=', dev.identity.id).orderBy('record_id').execute();
  expect(fevers).toEqual([{ record_id: 3, temperature: 38, user_id: ids[2] }, { record_id: 44_001, temperature: 39.1, user_id: ids[44_000 % USERS] }]);
  const held = await suite.db.selectFrom('held_punches').select(['record_id', 'reason']).where('session_id', '=', sessionId).execute();
  expect(held).toEqual([{ record_id: 29_999, reason: 'in_future' }]);
  // Each user's day: the figures include the batch when status 2 is read (dev.sync waited for it).
  const days = await suite.db.selectFrom('user_days').select(['user_id', 'seconds']).where('school_id', '=', school.id).where('date', '=', DAY).execute();
  expect(days).toHaveLength(USERS);
  expect(days.every((d) => d.seconds > 0)).toBe(true);

  // The same file again: nothing new, so nothing twice.
  const again = await sync(dev, rows);
  expect(imported(again.pkg)).toMatchObject({ received: '45000', accepted: '0', duplicates: '44998', rejected: '2' });
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(44_998);
  expect(await keyCount(dev.identity.id)).toBe(44_998);
});

test('an unknown user 25,000 rows into the file: its row refused, every other row stored once', async () => {
  const { ids, dev } = await setup();
  const foreign = (await someUsers(suite.db, (await aSchool(suite.db)).id, 1))[0].id;
  const rows = newRows(30_000, ids);
  rows[1] = { ...rows[1], temperature: '38.2' }; // line 3: a fever, raised once
  rows[24_999] = { ...rows[24_999], user_id: foreign }; // line 25,001

  const { pkg } = await sync(dev, rows);
  expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '30000', accepted: '29999', duplicates: '0', rejected: '1', high_water_mark: '30000' });
  expect(pkg.all('rejection').map((r) => [r.line, r.record_id, r.code])).toEqual([['25001', '25000', 'unknown_user']]);
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(29_999);
  expect(await keyCount(dev.identity.id)).toBe(29_999);
  const fevers = await suite.db.selectFrom('fever_events').select('record_id').where('device_id', '=', dev.identity.id).execute();
  expect(fevers).toEqual([{ record_id: 2 }]);
});

test('a record id sent twice 25,000 rows into the file: the repeat is a duplicate, the rest stored once', async () => {
  const { ids, dev } = await setup();
  const rows = newRows(30_000, ids);
  rows.splice(25_000, 0, rows[24_999]); // line 25,002 repeats line 25,001

  const { pkg } = await sync(dev, rows);
  expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: '30001', accepted: '30000', duplicates: '1', rejected: '0', high_water_mark: '30000' });
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(30_000);
  expect(await keyCount(dev.identity.id)).toBe(30_000);
});
