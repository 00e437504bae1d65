// docs/protocol/v4.md §8 "nothing accepted is lost, nothing is stored twice" against a real crash: the
// worker runs as its own process (`node dist/worker/main.js`, as `npm run worker`), is killed
// with SIGKILL in the middle of an import, and a new worker imports the batch exactly once: the
// pending session is the import's queue entry (worker/import/session-queue.ts), and the dead
// attempt's row lock went with its connection, so the new worker claims it once the attempt's
// backoff (5 s from its claim) has passed. The dead attempt counted: its claim committed first.
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { attendanceCount, manyRowsCsv, useWorkerProcesses, waitFor } from './helpers.js';
import { useSuite } from '../support/suite.js';

const ROWS = 60_000;
const USERS = 100;

const suite = useSuite(); // the api only: workers are processes started below
const workers = useWorkerProcesses(() => suite.databaseUrl);
const startWorkerProcess = () => workers.start();

/** Worker backends inside a transaction, and whether one is writing the batch's rows. */
async function workerTransactions(): Promise<{ open: number; importing: boolean }> {
  const rows = await sql<{ query: string }>`
    SELECT query FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'attendance-worker' AND xact_start IS NOT NULL`.execute(suite.db);
  return { open: rows.rows.length, importing: rows.rows.some((r) => /INSERT INTO attendances/i.test(r.query)) };
}

/** How long the successful attempt ran: from its transaction's start (processed_at is its now()) to `readyAt`. */
async function retriedImportMs(sessionId: string, readyAt: number): Promise<number> {
  const row = await suite.db.selectFrom('sync_sessions').select('processed_at').where('id', '=', sessionId).executeTakeFirstOrThrow();
  return readyAt - row.processed_at!.getTime();
}

test(`a worker killed with SIGKILL mid-import: the ${ROWS.toLocaleString('en')}-row batch is imported exactly once by the next worker`, async () => {
  const school = await aSchool(suite.db);
  const users = await someUsers(suite.db, school.id, USERS);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const archive = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': manyRowsCsv(ROWS, users.map((u) => u.id)) });

  // The first worker also sets the queue's expiry (a job takes it when sent): start it before the upload.
  const first = await startWorkerProcess();
  const up = await dev.upload(archive);
  expect(up.status).toBe(202);
  const sessionId: string = up.body.session_id;

  // Kill it while its transaction is writing the rows.
  await waitFor(async () => (await workerTransactions()).importing, 30_000, 'the worker writing attendances', 10);
  expect((await dev.status()).body).toMatchObject({ status: 1, session_id: sessionId });
  first.child.kill('SIGKILL');
  const killedAt = Date.now();
  expect(await first.waitForExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });

  // PostgreSQL rolls the dead transaction back: nothing of the batch is visible, the session is
  // pending again, its attempt counted (the claim committed before the import began: issue #33).
  await waitFor(async () => (await workerTransactions()).open === 0, 30_000, 'the dead worker\'s transaction gone');
  expect(await attendanceCount(suite.db)).toBe(0);
  expect((await dev.status()).body).toMatchObject({ status: 1, session_id: sessionId });
  const orphan = await suite.db.selectFrom('sync_sessions').select(['processed_at', 'attempts']).where('id', '=', sessionId).executeTakeFirstOrThrow();
  expect(orphan).toEqual({ processed_at: null, attempts: 1 });

  // A new worker, as the supervisor starts one: it claims the pending session, and the batch goes
  // through — within 30 s of the kill plus the import itself (it was the heartbeat's 10 s and
  // more while pg-boss held the job).
  const second = await startWorkerProcess();
  await dev.waitForStatus(2, 90_000);
  const readyAt = Date.now();
  const recoveryMs = readyAt - killedAt;
  const importMs = await retriedImportMs(sessionId, readyAt);
  expect(recoveryMs).toBeLessThan(30_000 + importMs);

  expect(await attendanceCount(suite.db)).toBe(ROWS);
  const distinct = await sql<{ n: number }>`SELECT count(DISTINCT record_id)::int AS n FROM attendances WHERE device_id = ${dev.identity.id}`.execute(suite.db);
  expect(distinct.rows[0].n).toBe(ROWS);
  const sessions = await suite.db.selectFrom('sync_sessions').select(['id', 'outcome', 'stats', 'package_sha256']).where('device_id', '=', dev.identity.id).execute();
  expect(sessions).toEqual([{
    id: sessionId, outcome: 'imported', package_sha256: expect.any(String),
    stats: { 'attendances.csv': { received: ROWS, accepted: ROWS, duplicates: 0, rejected: 0, high_water_mark: ROWS } },
  }]);
  const pkg = readPackage((await dev.instructions()).body as Buffer);
  expect(pkg.all('import')).toEqual([{ file: 'attendances.csv', received: String(ROWS), accepted: String(ROWS), duplicates: '0', rejected: '0', high_water_mark: String(ROWS) }]);
  expect(pkg.all('error')).toEqual([]);
  const days = await suite.db.selectFrom('user_days').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  expect(Number(days.n)).toBe(ROWS / 2);

  expect(second.jsonLines().some((l) => l.msg === 'job done' && l.queue === 'import-batch' && l.sessionId === sessionId)).toBe(true);
  expect((await dev.ack(sessionId)).status).toBe(200);
  process.stdout.write(`\n[kill] status 2 ${recoveryMs} ms after the kill (the retried import itself took ${importMs} ms)\n`);

  second.child.kill('SIGTERM');
  expect((await second.waitForExit(30_000)).code).toBe(0);
}, 180_000);
