// Issue #33: a batch whose rows are mostly refused (8 million rows naming another school's
// users ran the worker out of memory) is imported like any other, with the worker holding at
// most HELD_REJECTIONS of them: they go to the `rejections` table as they come and the package
// is written from it (channels/kit/rejections.ts). What must not change: every refused row is
// reported (docs/protocol/v4.md §4, §5), in the package and the table, in the order a chunk-by-chunk
// import reports them, with the counts; the accepted rows and the figures are those of the
// school's own users. (The worker's memory is measured by the bench, `npm run bench -- refusals`.)
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { rawZip } from '../../fixtures/raw-zip.js';
import { HELD_REJECTIONS, REJECTIONS_PER_WRITE } from '../../channels/kit/rejections.js';
import { CHUNK_ROWS } from '../../channels/kit/csv-log.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';
import { minutesAgo, readingsCsv, type CsvReading } from '../channels/helpers.js';

const suite = useSuite({ worker: true });
const DAY = '2026-11-10';
const at = (minute: number) => new Date(Date.parse(`${DAY}T07:00:00Z`) + minute * 60_000).toISOString();
/** A user id no school has. */
const NOBODY = 2_147_483_000;

type Expected = [line: number, recordId: number | null, code: string];

/**
 * The order a chunk-by-chunk import reports rejections in: a row's own fault as read; the
 * chunk's unknown users when its CHUNK_ROWS valid rows are written (these batches hold no
 * duplicates or conflicts).
 */
function kitOrder(rows: ReadonlyArray<{ line: number; recordId: number; refusedAsRead?: string; unknown?: boolean }>): Expected[] {
  const out: Array<{ chunk: number; phase: number; line: number; e: Expected }> = [];
  let valid = 0;
  for (const r of rows) {
    if (r.refusedAsRead) out.push({ chunk: Math.floor(valid / CHUNK_ROWS), phase: 0, line: r.line, e: [r.line, r.recordId, r.refusedAsRead] });
    else {
      if (r.unknown) out.push({ chunk: Math.floor(valid / CHUNK_ROWS), phase: 1, line: r.line, e: [r.line, r.recordId, 'unknown_user'] });
      valid++;
    }
  }
  return out.sort((a, b) => a.chunk - b.chunk || a.phase - b.phase || a.line - b.line).map((x) => x.e);
}

async function storedRejections(sessionId: string): Promise<Expected[]> {
  const rows = await suite.db.selectFrom('rejections').select(['line', 'record_id', 'code']).where('session_id', '=', sessionId).orderBy('id').execute();
  return rows.map((r) => [r.line, r.record_id === null ? null : Number(r.record_id), r.code]);
}

test('attendances.csv with 36,000 refused rows among 48,000: every one reported in order, the school\'s rows imported, its figures alone', async () => {
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const ids = (await someUsers(suite.db, school.id, 20)).map((u) => u.id);
  const other = await aSchool(suite.db, { timezone: 'UTC' });
  const foreign = (await someUsers(suite.db, other.id, 30)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();

  // Every fourth row refused as read (invalid_type), two in four naming another school's pupil or nobody, one in four the school's own.
  const rows: CsvAttendance[] = [];
  const shape: Array<{ line: number; recordId: number; refusedAsRead?: string; unknown?: boolean }> = [];
  for (let i = 0; i < 48_000; i++) {
    const recordId = i + 1;
    const line = i + 2;
    const kind = i % 4;
    const user = kind === 0 ? ids[(i / 4) % ids.length] : kind === 1 ? foreign[((i - 1) / 4) % foreign.length] : kind === 2 ? NOBODY : ids[0];
    rows.push({ record_id: recordId, user_id: user, type: kind === 3 ? 'sleep' : i % 8 < 4 ? 'checkin' : 'checkout', occurred_at: at(Math.floor(i / 100)) });
    shape.push({ line, recordId, refusedAsRead: kind === 3 ? 'invalid_type' : undefined, unknown: kind === 1 || kind === 2 });
  }
  const expected = kitOrder(shape);
  expect(expected.length).toBe(36_000);
  expect(expected.length).toBeGreaterThan(HELD_REJECTIONS); // the package is written from the table
  expect(12_000).toBeGreaterThan(REJECTIONS_PER_WRITE); // rows refused as read are set aside in the stage between COPYs

  const { sessionId, pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  expect(pkg.all('import')).toEqual([{ file: 'attendances.csv', received: '48000', accepted: '12000', duplicates: '0', rejected: '36000', high_water_mark: '47997' }]);
  const reported: Expected[] = pkg.all('rejection').map((r) => {
    expect(r.file).toBe('attendances.csv');
    return [Number(r.line), r.record_id === undefined ? null : Number(r.record_id), r.code];
  });
  expect(reported).toEqual(expected);
  expect(await storedRejections(sessionId)).toEqual(expected);
  // Read back from the table, each with its detail (issue 30): refused as read, and decided in PostgreSQL.
  const details = new Map(pkg.all('rejection').map((r) => [Number(r.line), r.detail]));
  expect([details.get(3), details.get(4), details.get(5)]).toEqual([
    `user_id ${foreign[0]} is not a user of this school`, `user_id ${NOBODY} is not a user of this school`, 'type: "sleep" is not checkin or checkout',
  ]);

  const mine = await suite.db.selectFrom('attendances').select((eb) => eb.fn.countAll<number>().as('n')).where('device_id', '=', dev.identity.id).executeTakeFirstOrThrow();
  expect(Number(mine.n)).toBe(12_000);
  // Figures: the school's own pupils' days, never another school's.
  const days = await sql<{ school_id: number; n: number }>`SELECT school_id, count(*)::int AS n FROM user_days WHERE user_id = ANY(${[...ids, ...foreign]}::bigint[]) GROUP BY school_id`.execute(suite.db);
  expect(days.rows).toEqual([{ school_id: school.id, n: ids.length }]);
});

test('attendances.csv with more refused rows than are set aside at once, corrupt at its end: no rejection stored, none reported', async () => {
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const [user] = (await someUsers(suite.db, school.id, 1)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = Array.from({ length: 25_000 }, (_, i) => ({ record_id: i + 1, user_id: i % 2 ? NOBODY : user, type: i % 5 ? 'checkin' : 'nap', occurred_at: at(i % 600) }));
  const corrupt = rawZip([{ name: 'device.xml', data: deviceXml() }, { name: 'attendances.csv', data: attendancesCsv(rows), crc: 0x12345678 }]);
  const { sessionId, pkg } = await dev.sync(corrupt);
  expect(pkg.all('error')).toEqual([{ file: 'attendances.csv', code: 'file_corrupt', detail: expect.any(String) }]);
  expect(pkg.all('rejection')).toEqual([]);
  expect(await storedRejections(sessionId)).toEqual([]);
  expect(await suite.db.selectFrom('attendances').select('id').where('device_id', '=', dev.identity.id).execute()).toEqual([]);
});

test('readings.csv (the CSV-log kit) with 24,000 readings of unknown pupils: every one reported in order; corrupt at its end, none', async () => {
  const school = await aSchool(suite.db, { fever_threshold: 37.5 });
  const [user] = (await someUsers(suite.db, school.id, 1)).map((u) => u.id);
  const probe = await new TestDevice(suite.url, await aDevice(suite.db, school.id), 'sondes').signIn();
  const when = minutesAgo(5);
  const readings: CsvReading[] = Array.from({ length: 30_000 }, (_, i) => ({
    record_id: i + 1, measured_at: when, temperature: i % 5 === 4 ? '55.0' : '36.6', user_id: i % 5 === 0 ? user : NOBODY, sensor: 'gate-1',
  }));
  // In the kit's order: a row's own fault (temperature) as read, a chunk's unknown users when it is written.
  const shape = readings.map((r, i) => ({ line: i + 2, recordId: Number(r.record_id), refusedAsRead: r.temperature === '55.0' ? 'temperature_out_of_range' : undefined, unknown: r.user_id === NOBODY }));
  const expected = kitOrder(shape);
  expect(expected.length).toBe(24_000);

  const { sessionId, pkg } = await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': readingsCsv(readings) }));
  expect(pkg.all('import')).toEqual([{ file: 'readings.csv', received: '30000', accepted: '6000', duplicates: '0', rejected: '24000', high_water_mark: '29996' }]);
  const reported: Expected[] = pkg.all('rejection').map((r) => [Number(r.line), r.record_id === undefined ? null : Number(r.record_id), r.code]);
  expect(reported).toEqual(expected);
  expect(await storedRejections(sessionId)).toEqual(expected);

  // The same rows corrupt at the end: the rejections already written are taken back with the file.
  const next = readings.map((r) => ({ ...r, record_id: Number(r.record_id) + 30_000 }));
  const corrupt = rawZip([{ name: 'device.xml', data: deviceXml() }, { name: 'readings.csv', data: readingsCsv(next), crc: 0x12345678 }]);
  const bad = await probe.sync(corrupt);
  expect(bad.pkg.all('error')).toEqual([{ file: 'readings.csv', code: 'file_corrupt', detail: expect.any(String) }]);
  expect(bad.pkg.all('rejection')).toEqual([]);
  expect(await storedRejections(bad.sessionId)).toEqual([]);
}, 120_000);
