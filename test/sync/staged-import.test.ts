// attendances.csv goes through a COPY stage (channels/synchro/attendances-log.ts): what that
// path must keep beyond the fixture-sized batches of import.test.ts — a batch of several
// thousand rows mixing repeats, unknown users, duplicates and conflicts across batches keeps
// every row's code, the counts and the order of the rejections; a fever is raised from the
// temperature sent; a large file that turns out corrupt at its end imports none of its rows,
// and the same file sent intact afterwards imports all of them, once.
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { rawZip } from '../../fixtures/raw-zip.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
const imported = (pkg: Package) => pkg.all('import').find((i) => i.file === 'attendances.csv');
const DAY = '2026-11-10';
const at = (minute: number) => new Date(Date.parse(`${DAY}T07:00:00Z`) + minute * 60_000).toISOString();

async function setup(users = 50) {
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const people = await someUsers(suite.db, school.id, users);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  return { school, ids: people.map((u) => u.id), dev };
}

const stored = (deviceId: string) => suite.db.selectFrom('attendances').select(['record_id', 'user_id', 'type'])
  .where('device_id', '=', deviceId).orderBy('record_id').execute();

test('a batch of 12,000 rows with repeats, unknown users, duplicates and conflicts: every code, count and the order of the rejections', async () => {
  const { school, ids, dev } = await setup();
  const foreign = (await someUsers(suite.db, (await aSchool(suite.db)).id, 1))[0].id;
  // First batch: record ids 1–10 held.
  const held: CsvAttendance[] = Array.from({ length: 10 }, (_, i) => ({ record_id: i + 1, user_id: ids[i], type: 'checkin', occurred_at: at(i) }));
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(held) }))).pkg)).toMatchObject({ accepted: '10' });

  const rows: CsvAttendance[] = [
    held[0], // line 2: duplicate of a held record
    { ...held[1], type: 'checkout' }, // line 3: conflict with a held record
    { record_id: 100, user_id: foreign, type: 'checkin', occurred_at: at(1) }, // line 4: unknown_user
    { record_id: 101, user_id: ids[0], type: 'checkin', occurred_at: at(2), temperature: '38.04' }, // line 5: accepted, fever
    { record_id: 101, user_id: ids[0], type: 'checkin', occurred_at: at(2), temperature: '38.04' }, // line 6: duplicate of line 5
    { record_id: 101, user_id: ids[1], type: 'checkin', occurred_at: at(2) }, // line 7: conflict with line 5
    { record_id: 102, user_id: ids[2], type: 'checkin', occurred_at: at(3), temperature: '37.46' }, // line 8: accepted, no fever (37.46 < 37.5)
    { record_id: 103, user_id: ids[3], type: 'sleep' as 'checkin', occurred_at: at(3) }, // line 9: invalid_type
  ];
  for (let i = 0, n = 12_000 - rows.length; i < n; i++) rows.push({ record_id: 1000 + i, user_id: ids[i % ids.length], type: i % 2 ? 'checkout' : 'checkin', occurred_at: at(10 + Math.floor(i / ids.length)) });
  rows.push({ record_id: 5, user_id: foreign, type: 'checkin', occurred_at: at(4) }); // last line: unknown_user (not compared)
  const lastLine = rows.length + 1;

  const { sessionId, pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  expect(imported(pkg)).toEqual({ file: 'attendances.csv', received: String(rows.length), accepted: String(rows.length - 7), duplicates: '2', rejected: '5', high_water_mark: String(1000 + 12_000 - 9) });
  // In the order a chunk-by-chunk import (5,000 valid rows a chunk) reports them: a row's own
  // fault as read; a chunk's unknown users, repeats, then records held before, as it is written.
  expect(pkg.all('rejection').map((r) => [r.line, r.record_id, r.code])).toEqual([
    ['9', '103', 'invalid_type'], ['4', '100', 'unknown_user'], ['7', '101', 'record_conflict'], ['3', '2', 'record_conflict'], [String(lastLine), '5', 'unknown_user'],
  ]);
  const rejections = await suite.db.selectFrom('rejections').select(['line', 'code']).where('session_id', '=', sessionId).orderBy('id').execute();
  expect(rejections.map((r) => r.line)).toEqual([9, 4, 7, 3, lastLine]);

  const mine = await stored(dev.identity.id);
  expect(mine).toHaveLength(10 + rows.length - 7);
  expect(mine.find((r) => r.record_id === 2)).toEqual({ record_id: 2, user_id: ids[1], type: 'checkin' }); // the held row kept
  expect(mine.find((r) => r.record_id === 101)).toEqual({ record_id: 101, user_id: ids[0], type: 'checkin' }); // the first row of the file
  const fevers = await suite.db.selectFrom('fever_events').select(['record_id', 'temperature', 'user_id']).where('device_id', '=', dev.identity.id).execute();
  expect(fevers).toEqual([{ record_id: 101, temperature: 38, user_id: ids[0] }]);
  const days = await suite.db.selectFrom('user_days').select('user_id').where('school_id', '=', school.id).where('date', '=', DAY).execute();
  expect(days).toHaveLength(ids.length);
});

test('a large attendances.csv corrupt at its end imports none of its rows; sent intact afterwards, all of them once', async () => {
  const { ids, dev } = await setup(20);
  const rows: CsvAttendance[] = Array.from({ length: 12_000 }, (_, i) => ({ record_id: i + 1, user_id: ids[i % ids.length], type: i % 2 ? 'checkout' : 'checkin', occurred_at: at(Math.floor(i / ids.length)) }));
  const csv = attendancesCsv(rows);
  // Inflates fine to its end, then fails the CRC check: the rows were all read before the file turns out corrupt.
  const corrupt = rawZip([{ name: 'device.xml', data: deviceXml() }, { name: 'attendances.csv', data: csv, crc: 0x12345678 }]);
  const bad = await dev.sync(corrupt);
  expect(bad.pkg.all('error')).toEqual([{ file: 'attendances.csv', code: 'file_corrupt', detail: expect.any(String) }]);
  expect(imported(bad.pkg)).toBeUndefined();
  expect(await stored(dev.identity.id)).toEqual([]);
  expect(await suite.db.selectFrom('user_days').select('user_id').where('user_id', 'in', ids).execute()).toEqual([]);

  const good = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }));
  expect(imported(good.pkg)).toMatchObject({ received: '12000', accepted: '12000', duplicates: '0', rejected: '0', high_water_mark: '12000' });
  expect(await stored(dev.identity.id)).toHaveLength(12_000);
});

test('the user-days a batch touched are those of its rows, in the school\'s zone, each user with its own days', async () => {
  const school = await aSchool(suite.db, { timezone: 'Europe/Paris' });
  const [a, b] = (await someUsers(suite.db, school.id, 2)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [
    { record_id: 1, user_id: a, type: 'checkin', occurred_at: '2026-11-02T07:00:00Z' },
    { record_id: 2, user_id: a, type: 'checkout', occurred_at: '2026-11-02T15:00:00Z' },
    // 23:30 UTC is already the next day in Paris.
    { record_id: 3, user_id: a, type: 'checkin', occurred_at: '2026-11-03T23:30:00Z' },
    { record_id: 4, user_id: a, type: 'checkin', occurred_at: '2026-11-20T07:00:00Z' },
    { record_id: 5, user_id: b, type: 'checkin', occurred_at: '2026-11-03T07:00:00Z' },
  ];
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }))).pkg)).toMatchObject({ accepted: '5' });
  const days = await suite.db.selectFrom('user_days').select(['user_id', sql<string>`date::text`.as('date')]).where('school_id', '=', school.id)
    .orderBy('user_id').orderBy('date').execute();
  expect(days.map((d) => [d.user_id, d.date])).toEqual([[a, '2026-11-02'], [a, '2026-11-04'], [a, '2026-11-20'], [b, '2026-11-03']]);
});

test('a fresh batch (record ids rising above the held ones) raises fevers from the temperature sent; the same batch sent again stores nothing twice', async () => {
  const { school, ids, dev } = await setup(10);
  await suite.db.updateTable('schools').set({ fever_threshold: 37.5 }).where('id', '=', school.id).execute();
  const rows: CsvAttendance[] = Array.from({ length: 6_000 }, (_, i) => ({ record_id: i + 1, user_id: ids[i % ids.length], type: i % 2 ? 'checkout' : 'checkin', occurred_at: at(Math.floor(i / ids.length)) }));
  rows[0] = { ...rows[0], temperature: '37.46' }; // stored as 37.5 (numeric(4,1)), sent below the threshold: no fever
  rows[2] = { ...rows[2], temperature: '38.04' };
  const zip = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) });
  expect(imported((await dev.sync(zip)).pkg)).toMatchObject({ received: '6000', accepted: '6000', duplicates: '0', rejected: '0', high_water_mark: '6000' });
  const fevers = () => suite.db.selectFrom('fever_events').select(['record_id', 'temperature']).where('device_id', '=', dev.identity.id).execute();
  expect(await fevers()).toEqual([{ record_id: 3, temperature: 38 }]);

  // The same file again (a lost package): every row is held, so it takes the general path.
  expect(imported((await dev.sync(zip)).pkg)).toMatchObject({ received: '6000', accepted: '0', duplicates: '6000', rejected: '0' });
  expect(await stored(dev.identity.id)).toHaveLength(6_000);
  expect(await fevers()).toHaveLength(1);
  // Rising again but starting inside the held range: the held rows are duplicates, the rest go in.
  const next = [...rows.slice(-3), ...Array.from({ length: 3 }, (_, i): CsvAttendance => ({ record_id: 6_001 + i, user_id: ids[i], type: 'checkin', occurred_at: at(700 + i) }))];
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(next) }))).pkg))
    .toMatchObject({ received: '6', accepted: '3', duplicates: '3', rejected: '0', high_water_mark: '6003' });
  expect(await stored(dev.identity.id)).toHaveLength(6_003);
});

test("a fresh batch naming another school's pupil leaves that pupil's day alone", async () => {
  const { ids, dev } = await setup(2);
  const other = await aSchool(suite.db, { timezone: 'UTC' });
  const [foreign] = (await someUsers(suite.db, other.id, 1)).map((u) => u.id);
  const theirs = await new TestDevice(suite.url, await aDevice(suite.db, other.id)).signIn();
  await theirs.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([{ record_id: 1, user_id: foreign, type: 'checkin', occurred_at: at(0) }]) }));
  const foreignDays = () => suite.db.selectFrom('user_days').select(['school_id', sql<string>`date::text`.as('date')]).where('user_id', '=', foreign).execute();
  expect(await foreignDays()).toEqual([{ school_id: other.id, date: DAY }]);

  const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([
    { record_id: 1, user_id: ids[0], type: 'checkin', occurred_at: at(1) },
    { record_id: 2, user_id: foreign, type: 'checkout', occurred_at: at(2) },
  ]) }));
  expect(pkg.all('rejection').map((r) => [r.record_id, r.code])).toEqual([['2', 'unknown_user']]);
  expect(await foreignDays()).toEqual([{ school_id: other.id, date: DAY }]);
});
