// Issue #33: the rows one batch may carry (BATCH_MAX_ROWS, here 6,000: above the kit's chunk of
// 5,000 rows, so a log over it would have written rows before reaching the limit). The api refuses up front,
// from the zip's central directory, a CSV log declaring more than BATCH_MAX_ROWS × 256 bytes
// uncompressed: 400 archive_too_large_uncompressed (docs/protocol/v4.md §3.3), problem+json naming the
// entry and the limit, nothing stored. A log under that size but with more rows than the limit
// (short rows) is counted by the worker: `csv_invalid` for the file, none of its rows imported,
// its high-water mark unmoved, the rest of the batch imported.
import { expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';
import { attendanceCount, expectNothingStored, importJobCount } from '../sync/helpers.js';
import { minutesAgo, readingsCsv } from '../channels/helpers.js';

const MAX_ROWS = 6_000;
const suite = useSuite({ worker: true, env: { BATCH_MAX_ROWS: String(MAX_ROWS) } });

async function setup(channel: 'synchro' | 'sondes' = 'synchro') {
  const school = await aSchool(suite.db);
  const users = (await someUsers(suite.db, school.id, 10)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id), channel).signIn();
  return { users, dev };
}

const attendances = (n: number, users: readonly number[]): CsvAttendance[] => Array.from({ length: n }, (_, i) => ({
  record_id: i + 1, user_id: users[i % users.length], type: i % 2 ? 'checkout' : 'checkin', occurred_at: minutesAgo(50_000 - i),
}));

test('attendances.csv declaring more than BATCH_MAX_ROWS × 256 bytes: 400 archive_too_large_uncompressed up front, nothing stored', async () => {
  const { users, dev } = await setup();
  const csv = attendancesCsv(attendances(40_000, users));
  expect(Buffer.byteLength(csv)).toBeGreaterThan(MAX_ROWS * 256);
  const jobs = await importJobCount(suite.db);
  const res = await dev.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }));
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status: 400, code: 'archive_too_large_uncompressed', type: expect.any(String), title: expect.any(String),
    entry: 'attendances.csv', max_rows: MAX_ROWS, detail: expect.stringContaining(`more than the ${MAX_ROWS} rows one batch may carry`),
  });
  await expectNothingStored(dev, suite.db, jobs);
});

test('readings.csv the same on sondes', async () => {
  const { dev } = await setup('sondes');
  const at = minutesAgo(5);
  const csv = readingsCsv(Array.from({ length: 20_000 }, (_, i) => ({ record_id: i + 1, measured_at: at, temperature: '36.6', sensor: 'a-rather-long-sensor-name-to-pass-the-bound-sooner' })));
  expect(Buffer.byteLength(csv)).toBeGreaterThan(MAX_ROWS * 256);
  const jobs = await importJobCount(suite.db);
  const res = await dev.upload(batchZip({ 'device.xml': deviceXml(), 'readings.csv': csv }));
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 'archive_too_large_uncompressed', entry: 'readings.csv', max_rows: MAX_ROWS });
  await expectNothingStored(dev, suite.db, jobs);
});

test('attendances.csv of BATCH_MAX_ROWS rows is imported; one row more (small enough to pass the api) is csv_invalid in the package, none of it imported', async () => {
  const { users, dev } = await setup();
  const rows = attendances(MAX_ROWS + 1, users);

  const over = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'settings.xml': '<settings><sync_interval_seconds>300</sync_interval_seconds></settings>', 'attendances.csv': attendancesCsv(rows) }));
  expect(over.pkg.all('error')).toEqual([{
    file: 'attendances.csv', code: 'csv_invalid', detail: `the file holds more than ${MAX_ROWS} rows, the most one batch may carry: send its rows in smaller batches`,
  }]);
  expect(over.pkg.all('import')).toEqual([]);
  expect(over.pkg.all('rejection')).toEqual([]);
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(0);
  expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 0 });
  // The rest of the batch went in: the session says partial.
  const session = await suite.db.selectFrom('sync_sessions').select(['outcome']).where('id', '=', over.sessionId).executeTakeFirstOrThrow();
  expect(session.outcome).toBe('partial');
  const device = await suite.db.selectFrom('devices').select('reported_settings').where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
  expect(device.reported_settings).toEqual({ sync_interval_seconds: '300' });

  const within = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows.slice(0, MAX_ROWS)) }));
  expect(within.pkg.all('error')).toEqual([]);
  expect(within.pkg.all('import')).toEqual([{ file: 'attendances.csv', received: String(MAX_ROWS), accepted: String(MAX_ROWS), duplicates: '0', rejected: '0', high_water_mark: String(MAX_ROWS) }]);
  expect(await attendanceCount(suite.db, dev.identity.id)).toBe(MAX_ROWS);
});

test('readings.csv (the CSV-log kit) with one row more than BATCH_MAX_ROWS: csv_invalid, none of its readings stored', async () => {
  const { users, dev } = await setup('sondes');
  const at = minutesAgo(5);
  const csv = readingsCsv(Array.from({ length: MAX_ROWS + 1 }, (_, i) => ({ record_id: i + 1, measured_at: at, temperature: i % 100 ? '36.6' : '99', user_id: users[0] })));
  const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': csv }));
  expect(pkg.all('error')).toEqual([{ file: 'readings.csv', code: 'csv_invalid', detail: expect.stringContaining(`more than ${MAX_ROWS} rows`) }]);
  expect(pkg.all('import')).toEqual([]);
  expect(pkg.all('rejection')).toEqual([]);
  const stored = await suite.db.selectFrom('readings').select('id').where('device_id', '=', dev.identity.id).execute();
  expect(stored).toEqual([]);
});
