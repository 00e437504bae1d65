import { expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });

test('a batch goes through upload, import, package and ack, and its user-day is computed', async () => {
  const school = await aSchool(suite.db);
  const users = await someUsers(suite.db, school.id, 3);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const csv = attendancesCsv([
    { record_id: 1, user_id: users[0].id, type: 'checkin', occurred_at: '2026-11-20T08:00:00+01:00' },
    { record_id: 2, user_id: users[0].id, type: 'checkout', occurred_at: '2026-11-20T13:00:00+01:00', temperature: '38.2' },
    { record_id: 3, user_id: 999999, type: 'checkin', occurred_at: '2026-11-20T08:00:00+01:00' },
  ]);
  const { pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }));
  expect(pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '2', rejected: '1' });
  expect(Object.keys(pkg.files).sort()).toEqual(['instructions.xml', 'roster.csv']);
  const days = await suite.db.selectFrom('user_days').selectAll().where('user_id', '=', users[0].id).execute();
  // 08:00–13:00 in Paris: five hours closed, present that day.
  expect(days.map((d) => [d.date, d.seconds, d.anomalies])).toEqual([['2026-11-20', 5 * 3600, []]]);
});
