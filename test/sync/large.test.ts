// A 200,000-row batch (PROTOCOL.md §8): imported exactly once, in one transaction, and the same
// rows sent again in a new session are all duplicates. The import time is printed.
import { beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
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
  const wallMs = Date.now() - started;
  // The job's own clock: fetched by the worker → completed after the import transaction committed.
  const session = await suite.db.selectFrom('sync_sessions').select('job_id').where('id', '=', up.body.session_id).executeTakeFirstOrThrow();
  const job = await waitForJob(session.job_id!);
  const pkg = readPackage((await dev.instructions()).body as Buffer);
  expect((await dev.ack(up.body.session_id)).status).toBe(200);
  return { sessionId: up.body.session_id, pkg, wallMs, importMs: job.completed_on.getTime() - job.started_on.getTime() };
}

async function waitForJob(jobId: string): Promise<{ started_on: Date; completed_on: Date }> {
  for (let i = 0; ; i++) {
    const row = await sql<{ state: string; started_on: Date; completed_on: Date }>`SELECT state, started_on, completed_on FROM pgboss.job WHERE id = ${jobId}`.execute(suite.db);
    if (row.rows[0]?.state === 'completed') return row.rows[0];
    if (i > 100) throw new Error(`import job ${jobId} not completed: ${row.rows[0]?.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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
