// A 200,000-row batch (docs/protocol/v4.md §8): imported exactly once, in one transaction, and the same
// rows sent again in a new session are all duplicates. The import time is printed.
import { beforeAll, expect, test } from '@jest/globals';
import { batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { attendanceCount, manyRowsCsv } from './helpers.js';
import { useSuite } from '../support/suite.js';

const ROWS = 200_000;
const USERS = 1_000; // 200 events each: 100 days of check-in + check-out, 100,000 user-days

const suite = useSuite({ worker: true });
let dev: TestDevice;
let archive: Buffer;

beforeAll(async () => {
  const school = await aSchool(suite.db);
  const users = await someUsers(suite.db, school.id, USERS);
  dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  archive = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': manyRowsCsv(ROWS, users.map((u) => u.id)) });
}, 60_000);

async function timedSync(): Promise<{ sessionId: string; pkg: ReturnType<typeof readPackage>; wallMs: number; importMs: number }> {
  const started = Date.now();
  const up = await dev.upload(archive);
  expect(up.status).toBe(202);
  await dev.waitForStatus(2, 170_000);
  const readyAt = Date.now();
  const wallMs = readyAt - started;
  // The import's own clock: processed_at is the import transaction's start (now()); status 2 is read at its commit.
  const session = await suite.db.selectFrom('sync_sessions').select(['processed_at', 'attempts']).where('id', '=', up.body.session_id).executeTakeFirstOrThrow();
  expect(session.attempts).toBe(1);
  const pkg = readPackage((await dev.instructions()).body as Buffer);
  expect((await dev.ack(up.body.session_id)).status).toBe(200);
  return { sessionId: up.body.session_id, pkg, wallMs, importMs: readyAt - session.processed_at!.getTime() };
}

test(`${ROWS.toLocaleString('en')} rows are imported exactly once; the same rows again are all duplicates`, async () => {
  const first = await timedSync();
  expect(first.pkg.all('import')).toEqual([{
    file: 'attendances.csv', received: String(ROWS), accepted: String(ROWS), duplicates: '0', rejected: '0', high_water_mark: String(ROWS),
  }]);
  expect(await attendanceCount(suite.db)).toBe(ROWS);
  const days = await suite.db.selectFrom('user_days').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  expect(Number(days.n)).toBe(ROWS / 2);

  const second = await timedSync();
  expect(second.sessionId).not.toBe(first.sessionId);
  expect(second.pkg.all('import')).toEqual([{
    file: 'attendances.csv', received: String(ROWS), accepted: '0', duplicates: String(ROWS), rejected: '0', high_water_mark: String(ROWS),
  }]);
  expect(await attendanceCount(suite.db)).toBe(ROWS);

  process.stdout.write(`\n[large] archive ${(archive.length / 1e6).toFixed(1)} MB; first import ${first.importMs} ms in the worker `
    + `(upload→status 2: ${first.wallMs} ms); all-duplicates import ${second.importMs} ms (${second.wallMs} ms)\n`);
}, 360_000);
