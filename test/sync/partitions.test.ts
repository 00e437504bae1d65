// Monthly partitions (migration 20261208_200000, docs/scaling-partitions.md): a device's key is
// held across months, by the key tables the partitioned tables cannot replace. Through the real
// v4 upload path and a PUSH ATTLOG: a row resent with its time moved into another month is a
// duplicate or a record_conflict, never a second row; a month's partition made after its rows
// arrived (in the DEFAULT one) takes them; a month is dropped by retention only once the data
// mart export covers it, and a resend of a dropped month's row is still a duplicate.
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { dropExpiredMonths, ensurePartitions, monthPartitions, partitionName } from '../../db/repositories/partitions.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';
import { importedSessions, registeredTerminal } from '../push/support.js';

const suite = useSuite({ worker: true });
const imported = (pkg: Package) => pkg.all('import').find((i) => i.file === 'attendances.csv');

/** The partition a device's row is in, by record id. */
async function partitionsOf(deviceId: string) {
  const r = await sql<{ record_id: string; part: string; user_id: string; type: string }>`
    SELECT record_id::text, tableoid::regclass::text AS part, user_id::text, type FROM attendances WHERE device_id = ${deviceId}::uuid ORDER BY record_id`.execute(suite.db);
  return r.rows.map((x) => [Number(x.record_id), x.part, x.type]);
}

test('v4: a record id held in one month is a duplicate or a record_conflict when sent again with a time in another month', async () => {
  // October and November have their partitions (made as the daily job makes them ahead).
  await ensurePartitions(suite.db, 1, new Date('2026-10-15T00:00:00Z'));
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const [alice, bob] = (await someUsers(suite.db, school.id, 2)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [
    { record_id: 1, user_id: alice, type: 'checkin', occurred_at: '2026-10-31T23:59:00.000Z' },
    { record_id: 2, user_id: bob, type: 'checkin', occurred_at: '2026-11-01T00:01:00.000Z' },
  ];
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }))).pkg)).toMatchObject({ accepted: '2' });
  expect(await partitionsOf(dev.identity.id)).toEqual([[1, 'attendances_p2026_10', 'checkin'], [2, 'attendances_p2026_11', 'checkin']]);

  // Sent again as it was: duplicates. Record 1 moved into November and record 2 into October:
  // the database would take them (other partitions); the key refuses them as conflicts.
  const again = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([
    ...rows,
    { record_id: 1, user_id: alice, type: 'checkin', occurred_at: '2026-11-01T00:00:00.000Z' },
    { record_id: 2, user_id: bob, type: 'checkin', occurred_at: '2026-10-31T23:00:00.000Z' },
    { record_id: 3, user_id: alice, type: 'checkout', occurred_at: '2026-11-01T08:00:00.000Z' },
  ]) }));
  expect(imported(again.pkg)).toMatchObject({ received: '5', accepted: '1', duplicates: '2', rejected: '2' });
  expect(again.pkg.all('rejection')).toEqual([
    { file: 'attendances.csv', line: '4', record_id: '1', code: 'record_conflict', detail: 'record_id 1 is already held for this device with other content' },
    { file: 'attendances.csv', line: '5', record_id: '2', code: 'record_conflict', detail: 'record_id 2 is already held for this device with other content' },
  ]);
  expect(await partitionsOf(dev.identity.id)).toEqual([[1, 'attendances_p2026_10', 'checkin'], [2, 'attendances_p2026_11', 'checkin'], [3, 'attendances_p2026_11', 'checkout']]);
  // The plain INSERT of a batch above the device's high-water mark is checked by the key too.
  const fresh = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([
    { record_id: 4, user_id: bob, type: 'checkout', occurred_at: '2026-10-31T23:59:59.000Z' },
  ]) }));
  expect(imported(fresh.pkg)).toMatchObject({ accepted: '1', duplicates: '0', rejected: '0' });
  expect(await sql<{ n: number }>`SELECT count(*)::int AS n FROM attendance_keys WHERE device_id = ${dev.identity.id}::uuid`.execute(suite.db).then((r) => r.rows[0].n)).toBe(4);
});

test('PUSH ATTLOG: the same punch read in another month (the school changed its timezone) is a duplicate, not a second row', async () => {
  await ensurePartitions(suite.db, 1, new Date('2026-10-15T00:00:00Z'));
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  await aUser(suite.db, school.id, { badge: '7' });
  const staff = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
  const { terminal, deviceId } = await registeredTerminal(suite.url, staff, school.id);
  const punch = [{ pin: '7', time: '2026-11-01 00:30:00', status: 0 }];
  expect((await terminal.punches(punch)).body).toBe('OK: 1');
  await importedSessions(suite.db, deviceId, 1);
  // Paris is an hour ahead: the same local time is now 23:30 UTC on October 31st, another partition.
  await suite.db.updateTable('schools').set({ timezone: 'Europe/Paris' }).where('id', '=', school.id).execute();
  expect((await terminal.punches([...punch, { pin: '7', time: '2026-11-01 08:00:00', status: 1 }])).body).toBe('OK: 2');
  const [, stats] = await importedSessions(suite.db, deviceId, 2);
  expect(stats.ATTLOG).toMatchObject({ received: 2, accepted: 1, duplicates: 1 });
  const rows = await sql<{ part: string; local: string }>`
    SELECT tableoid::regclass::text AS part, to_char(local_time, 'YYYY-MM-DD HH24:MI') AS local FROM attendances WHERE device_id = ${deviceId}::uuid ORDER BY local_time`.execute(suite.db);
  // Read in Paris the resent punch would have gone to October's partition: the key kept it out.
  expect(rows.rows.map((r) => [r.local, r.part])).toEqual([['2026-11-01 00:30', 'attendances_p2026_11'], ['2026-11-01 08:00', 'attendances_p2026_11']]);
});

test('a month made after its rows arrived takes them from the DEFAULT partition; nothing is lost', async () => {
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const [carol] = (await someUsers(suite.db, school.id, 1)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [1, 2, 3].map((i) => ({ record_id: i, user_id: carol, type: i % 2 ? 'checkin' : 'checkout', occurred_at: `2023-02-0${i}T08:00:00.000Z` }));
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }))).pkg)).toMatchObject({ accepted: '3' });
  expect((await partitionsOf(dev.identity.id)).map((r) => r[1])).toEqual(['attendances_default', 'attendances_default', 'attendances_default']);
  expect(await ensurePartitions(suite.db, 0, new Date('2023-02-10T00:00:00Z'))).toContain('attendances_p2023_02');
  expect((await partitionsOf(dev.identity.id)).map((r) => r[1])).toEqual(['attendances_p2023_02', 'attendances_p2023_02', 'attendances_p2023_02']);
});

test('retention drops a month only once the data mart export covers it; its keys stay, so a resend is a duplicate', async () => {
  await ensurePartitions(suite.db, 0, new Date('2024-03-10T00:00:00Z'));
  const school = await aSchool(suite.db, { timezone: 'UTC' });
  const [dan] = (await someUsers(suite.db, school.id, 1)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [{ record_id: 1, user_id: dan, type: 'checkin', occurred_at: '2024-03-05T08:00:00.000Z' }];
  expect(imported((await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }))).pkg)).toMatchObject({ accepted: '1' });
  const months = async () => (await monthPartitions(suite.db, 'attendances')).map((p) => p.name);
  // Today, whatever the day the suite runs: its month's partition is the migration's, and must stay.
  const now = new Date();

  // Never exported: kept, whatever its age.
  await sql`DELETE FROM datamart_runs`.execute(suite.db);
  expect(await dropExpiredMonths(suite.db, 12, now)).toEqual([]);
  expect(await months()).toContain('attendances_p2024_03');
  const kept = async () => {
    // (the earlier months this suite made may go meanwhile: they are covered)
    expect((await dropExpiredMonths(suite.db, 12, now)).map((d) => d.month).every((m) => m < '2024-03')).toBe(true);
    expect(await months()).toContain('attendances_p2024_03');
  };
  // Exported up to mid-March 2024 only: still kept.
  const run = (to: string) => sql`INSERT INTO datamart_runs (trigger, status, window_from, window_to, collected_at, started_at, finished_at)
    VALUES ('schedule', 'done', '2024-01-01', ${to}::timestamptz, ${to}::timestamptz, ${to}::timestamptz, ${to}::timestamptz)`.execute(suite.db);
  await run('2024-03-15T00:00:00Z');
  await kept();
  // A day of March still waiting to be sent: kept.
  await run('2024-06-01T00:00:00Z');
  await sql`INSERT INTO datamart_records (entity, key, operation, fields, version, sent_version)
    VALUES ('attendance_days', ${`${dan}:2024-03-05`}, 'upsert', '{}', 2, 1)`.execute(suite.db);
  await kept();
  // Sent: March 2024 goes (every month before it too), not a month within the retention.
  await sql`UPDATE datamart_records SET sent_version = version WHERE key = ${`${dan}:2024-03-05`}`.execute(suite.db);
  const dropped = await dropExpiredMonths(suite.db, 12, now);
  expect(dropped.map((d) => d.name)).toEqual(['attendances_p2024_03', 'readings_p2024_03', 'rejections_p2024_03']);
  expect(await months()).not.toContain('attendances_p2024_03');
  expect(await months()).toContain(partitionName('attendances', new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))));
  expect(await partitionsOf(dev.identity.id)).toEqual([]);

  // The device sends the dropped row again: a duplicate, not a row back in the DEFAULT partition.
  const again = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  expect(imported(again.pkg)).toMatchObject({ accepted: '0', duplicates: '1', rejected: '0' });
  expect(await partitionsOf(dev.identity.id)).toEqual([]);
});
