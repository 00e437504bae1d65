// Archives whose sizes or CRC lie (issue 17 §4). Their headers pass the api's structure check;
// the data does not. A required file (device.xml) that does not arrive intact refuses the upload
// with 400 archive_corrupt (nothing stored, the device sends again); any other file is reported
// file_corrupt in the package, and the session says `partial` with the file named.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { rawZip } from '../../fixtures/raw-zip.js';
import { connectTestDatabase } from '../support/database.js';
import { attendancesCsv, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs, someUsers } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { expectNothingStored, importJobCount } from '../sync/helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let schoolId: number;
let csv: string;

beforeAll(async () => {
  stack = await startStack({ worker: true });
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
  const users = await someUsers(db.db, schoolId, 2);
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  csv = attendancesCsv(users.map((u, i) => ({ record_id: i + 1, user_id: u.id, type: 'checkin', occurred_at: `${day}T08:00:0${i}Z` })));
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

async function newDevice(): Promise<TestDevice> {
  return new TestDevice(stack.url, await aDevice(db.db, schoolId)).signIn();
}

describe('device.xml that does not arrive intact', () => {
  test.each([
    ['a CRC that lies', { crc: 0x12345678 }],
    ['a size that lies', { declaredSize: 20 }],
  ])('%s: 400 archive_corrupt naming it, nothing stored', async (_what, lie) => {
    const dev = await newDevice();
    const jobs = await importJobCount(db.db);
    const res = await dev.upload(rawZip([{ name: 'device.xml', data: deviceXml(), ...lie }, { name: 'attendances.csv', data: csv }]));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'archive_corrupt', entry: 'device.xml' });
    await expectNothingStored(dev, db.db, jobs);
  });
});

describe('another file that does not arrive intact', () => {
  test('attendances.csv with a lying CRC: the session is partial and names the file; its rows come again', async () => {
    const dev = await newDevice();
    const { sessionId, pkg } = await dev.sync(rawZip([{ name: 'device.xml', data: deviceXml() }, { name: 'attendances.csv', data: csv, crc: 0x12345678 }]));
    expect(pkg.all('error')).toEqual([{ file: 'attendances.csv', code: 'file_corrupt', detail: expect.any(String) }]);

    const backoffice = await aStaff(db.db, 'backoffice');
    const session = await http(stack.url, 'GET', `/api/sessions/${sessionId}`, { token: await loginAs(stack.url, backoffice) });
    expect(session.status).toBe(200);
    expect(session.body.outcome).toBe('partial');
    expect(session.body.file_errors).toEqual([{ file: 'attendances.csv', code: 'file_corrupt', detail: expect.any(String) }]);
    expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 0 });

    // Sent again intact, the same rows import and the session is complete.
    const again = await dev.sync(rawZip([{ name: 'device.xml', data: deviceXml() }, { name: 'attendances.csv', data: csv }]));
    expect(again.pkg.all('import')[0]).toMatchObject({ accepted: '2' });
    const second = await db.db.selectFrom('sync_sessions').select(['outcome', 'file_errors']).where('id', '=', again.sessionId).executeTakeFirstOrThrow();
    expect(second).toEqual({ outcome: 'imported', file_errors: null });
  });
});
