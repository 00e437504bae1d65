// Retention (docs/DATA-PROTECTION.md): the nightly job drops archives, acknowledged packages,
// photos and temperatures past their school's retention (or the defaults), keeps the figures,
// and a device that sends the same rows again afterwards gets nothing stored twice.
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { pruneRetention, setSchoolRetention } from '../../db/repositories/retention.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
const DAY = 86_400_000;
const DEFAULTS = { archiveDays: 30, packageDays: 7, photoDays: 30, temperatureDays: 30 };

test('past retention: archive, package and temperatures go, a school\'s shorter setting first; figures stay; a resend is not stored twice', async () => {
  const strict = await aSchool(suite.db);
  const lenient = await aSchool(suite.db);
  await setSchoolRetention(suite.db, strict.id, { package_days: 1, temperature_days: 2 });
  const sync = async (schoolId: number) => {
    const [user] = await someUsers(suite.db, schoolId, 1);
    const device = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    const rows: CsvAttendance[] = [
      { record_id: 1, user_id: user.id, type: 'checkin', occurred_at: new Date(Date.now() - 5 * DAY).toISOString(), temperature: '38.1' },
      { record_id: 2, user_id: user.id, type: 'checkout', occurred_at: new Date(Date.now() - 5 * DAY + 3_600_000).toISOString() },
    ];
    const archive = batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }), 'attendances.csv': attendancesCsv(rows) });
    await device.sync(archive);
    return { device, archive, schoolId };
  };
  const a = await sync(strict.id);
  const b = await sync(lenient.id);
  // The syncs happened 3 days ago, as far as retention is concerned.
  await sql`UPDATE sync_sessions SET acked_at = acked_at - interval '3 days', received_at = received_at - interval '3 days'`.execute(suite.db);
  const state = async (schoolId: number) => (await sql<Record<string, unknown>>`
    SELECT (SELECT count(*)::int FROM sync_sessions s JOIN devices d ON d.id = s.device_id WHERE d.school_id = ${schoolId} AND s.package IS NOT NULL) AS packages,
           (SELECT count(*)::int FROM sync_sessions s JOIN devices d ON d.id = s.device_id WHERE d.school_id = ${schoolId} AND s.archive IS NOT NULL) AS archives,
           (SELECT count(*)::int FROM attendances WHERE school_id = ${schoolId} AND temperature IS NOT NULL) AS temperatures,
           (SELECT count(*)::int FROM fever_events WHERE school_id = ${schoolId}) AS fevers,
           (SELECT count(*)::int FROM attendances WHERE school_id = ${schoolId}) AS attendances,
           (SELECT coalesce(sum(seconds), 0)::int FROM user_days WHERE school_id = ${schoolId}) AS seconds`.execute(suite.db)).rows[0];
  const before = { strict: await state(strict.id), lenient: await state(lenient.id) };
  expect(before.strict).toMatchObject({ packages: 1, archives: 1, temperatures: 1, fevers: 1, attendances: 2 });

  await pruneRetention(suite.db, DEFAULTS);
  // Strict school: package (1 day) and temperatures (2 days, the check-in was 5 days ago) gone; the archive (30 days) stays.
  expect(await state(strict.id)).toEqual({ ...before.strict, packages: 0, temperatures: 0, fevers: 0 });
  // Lenient school, the defaults: the package (7 days) stays; the temperature is 5 days old, under 30.
  expect(await state(lenient.id)).toEqual(before.lenient);

  // The same batch again (a lost acknowledgement, a RESEND_SINCE): nothing stored twice.
  await a.device.sync(a.archive);
  await b.device.sync(b.archive);
  expect((await state(strict.id)).attendances).toBe(2);
  expect((await state(lenient.id)).attendances).toBe(2);
  expect((await state(strict.id)).seconds).toBe(before.strict.seconds);
});
