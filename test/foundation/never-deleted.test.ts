// Users and devices are deactivated, never deleted (migration 20261204_100000): the imported
// tables refer to them without foreign keys, so PostgreSQL itself refuses a DELETE or TRUNCATE
// of either table, with an error that says what to do instead. Deactivation keeps working,
// and the import still refuses a user of another school or a user that does not exist.
import { describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });

async function refused(statement: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await statement.then(() => null, (e: { code: string; message: string }) => e);
  expect(err).not.toBeNull();
  return err!;
}

describe('users and devices are never deleted', () => {
  test('a DELETE or TRUNCATE of users is refused with a clear error; the user stays and can be deactivated', async () => {
    const school = await aSchool(suite.db);
    const user = await aUser(suite.db, school.id);
    const err = await refused(sql`DELETE FROM users WHERE id = ${user.id}`.execute(suite.db));
    expect(err.code).toBe('23001'); // restrict_violation
    expect(err.message).toBe('users rows are never deleted: deactivate them instead (users.deleted_at)');
    expect((await refused(sql`TRUNCATE users CASCADE`.execute(suite.db))).code).toBe('23001');
    expect(await suite.db.selectFrom('users').select('id').where('id', '=', user.id).executeTakeFirst()).toEqual({ id: user.id });

    // The API's DELETE deactivates.
    const token = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
    expect((await http(suite.url, 'DELETE', `/api/users/${user.id}`, { token })).status).toBe(204);
    const row = await suite.db.selectFrom('users').select('deleted_at').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
  });

  test('a DELETE or TRUNCATE of devices is refused with a clear error; disabling still works', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const err = await refused(sql`DELETE FROM devices WHERE id = ${device.id}`.execute(suite.db));
    expect(err.code).toBe('23001');
    expect(err.message).toBe('devices rows are never deleted: deactivate them instead (devices.disabled_at)');
    expect((await refused(sql`TRUNCATE devices CASCADE`.execute(suite.db))).code).toBe('23001');
    await suite.db.updateTable('devices').set({ disabled_at: new Date() }).where('id', '=', device.id).execute();
    expect(await suite.db.selectFrom('devices').select('id').where('id', '=', device.id).executeTakeFirst()).toEqual({ id: device.id });
  });

  test('without the foreign keys the import still stores only users of the device\'s school', async () => {
    const school = await aSchool(suite.db);
    const mine = await aUser(suite.db, school.id);
    const foreign = await aUser(suite.db, (await aSchool(suite.db)).id);
    const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
    const at = '2026-11-13T08:00:00Z';
    const { pkg } = await dev.sync(batchZip({
      'device.xml': deviceXml(),
      'attendances.csv': attendancesCsv([
        { record_id: 1, user_id: foreign.id, type: 'checkin', occurred_at: at },
        { record_id: 2, user_id: 2_000_000_000, type: 'checkin', occurred_at: at },
        { record_id: 3, user_id: mine.id, type: 'checkin', occurred_at: at },
      ]),
    }));
    expect(pkg.all('rejection').map((r) => [r.record_id, r.code])).toEqual([['1', 'unknown_user'], ['2', 'unknown_user']]);
    const stored = await suite.db.selectFrom('attendances').select(['record_id', 'user_id']).where('device_id', '=', dev.identity.id).execute();
    expect(stored).toEqual([{ record_id: 3, user_id: mine.id }]);
    const days = await suite.db.selectFrom('user_days').select('user_id').where('school_id', '=', school.id).execute();
    expect(days).toEqual([{ user_id: mine.id }]);
  });
});
