// Issue #33: a batch that kills its worker on every attempt (it ran out of memory five times in
// 17 minutes) must end. The import queue's claim counts the attempt in a statement committed
// before the import begins (worker/import/session-queue.ts), so a worker that dies mid-import
// has still spent one; the claim that finds the attempts spent (1 + IMPORT_RETRY_LIMIT) gives
// the batch up: the device gets the processing_failed package with a detail it can act on.
// The crash is a SIGKILL of the worker process in the middle of the import, as kill.test.ts
// does, repeated; another device syncs between the crashes and after, through the same workers.
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { attendancesCsv, batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { attendanceCount, manyRowsCsv, useWorkerProcesses, waitFor } from './helpers.js';
import type { RunningProcess } from '../support/processes.js';
import { useSuite } from '../support/suite.js';

const ROWS = 60_000;
const USERS = 100;
/** Two attempts in all: the first and one retry. */
const RETRY_LIMIT = 1;

const suite = useSuite(); // the api only: workers are processes started below
const workers = useWorkerProcesses(() => suite.databaseUrl, { IMPORT_RETRY_LIMIT: String(RETRY_LIMIT), BATCH_MAX_ROWS: '250000' });
const startWorkerProcess = () => workers.start();

/** Whether a worker backend is inside the import of the batch's rows (staging or inserting them). */
async function importingRows(): Promise<boolean> {
  const rows = await sql<{ query: string }>`
    SELECT query FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'attendance-worker' AND xact_start IS NOT NULL`.execute(suite.db);
  return rows.rows.some((r) => /COPY import_attendances|INSERT INTO attendances/i.test(r.query));
}

async function openWorkerTransactions(): Promise<number> {
  const rows = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'attendance-worker' AND xact_start IS NOT NULL`.execute(suite.db);
  return rows.rows[0].n;
}

const queued = async (sessionId: string) => suite.db.selectFrom('sync_sessions').select(['attempts', 'processed_at', 'outcome']).where('id', '=', sessionId).executeTakeFirstOrThrow();

/** Kills `worker` with SIGKILL once it is importing the batch's rows, and waits for its transaction to be gone. */
async function crashDuringImport(worker: RunningProcess): Promise<void> {
  await waitFor(importingRows, 60_000, 'the worker importing the batch', 10);
  worker.child.kill('SIGKILL');
  expect(await worker.waitForExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
  await waitFor(async () => (await openWorkerTransactions()) === 0, 30_000, 'the dead worker\'s transaction gone');
}

test(`a batch whose import kills the worker every time is given up after ${RETRY_LIMIT + 1} attempts with processing_failed; other devices keep syncing`, async () => {
  const school = await aSchool(suite.db);
  const users = await someUsers(suite.db, school.id, USERS);
  const bomb = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const other = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  let otherRecord = 0;
  /** One whole small sync of the other device (upload, package, acknowledgement), through whichever worker runs. */
  const otherSyncs = async () => {
    otherRecord++;
    const { pkg } = await other.sync(batchZip({
      'device.xml': deviceXml(),
      'attendances.csv': attendancesCsv([{ record_id: otherRecord, user_id: users[0].id, type: 'checkin', occurred_at: new Date(Date.now() - 60_000 * otherRecord).toISOString() }]),
    }));
    expect(pkg.all('import')[0]).toMatchObject({ received: '1', accepted: '1' });
  };

  const up = await bomb.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': manyRowsCsv(ROWS, users.map((u) => u.id)) }));
  expect(up.status).toBe(202);
  const sessionId: string = up.body.session_id;

  // Attempt 1 dies. Its claim committed first: the attempt is spent, the session waits for its backoff.
  await crashDuringImport(await startWorkerProcess());
  expect(await queued(sessionId)).toEqual({ attempts: 1, processed_at: null, outcome: null });
  expect(await attendanceCount(suite.db, bomb.identity.id)).toBe(0);

  // Attempt 2 (the last: IMPORT_RETRY_LIMIT=1) dies too; the other device synced meanwhile.
  const second = await startWorkerProcess();
  await otherSyncs();
  await crashDuringImport(second);
  expect(await queued(sessionId)).toEqual({ attempts: 2, processed_at: null, outcome: null });
  expect((await bomb.status()).body).toMatchObject({ status: 1, session_id: sessionId });

  // The next worker's claim finds the attempts spent: the batch is given up, never imported a third time.
  const third = await startWorkerProcess();
  const ready = await bomb.waitForStatus(2, 60_000);
  expect(ready.body.session_id).toBe(sessionId);
  const pkg = readPackage((await bomb.instructions()).body as Buffer);
  expect(pkg.all('error')).toEqual([{
    code: 'processing_failed', retry: 'true',
    detail: 'the import of this batch stopped 2 times without finishing, so it is given up; nothing of this batch was imported: send the same rows again in smaller batches (at most 250000 rows each)',
  }]);
  expect(pkg.all('import')).toEqual([]);
  const session = await suite.db.selectFrom('sync_sessions').select(['outcome', 'failure', 'attempts']).where('id', '=', sessionId).executeTakeFirstOrThrow();
  expect(session).toEqual({ outcome: 'failed', failure: expect.stringContaining('stopped 2 times'), attempts: 3 });
  expect(await attendanceCount(suite.db, bomb.identity.id)).toBe(0);
  expect(third.jsonLines().some((l) => l.sessionId === sessionId && /every attempt stopped without finishing/.test(l.msg))).toBe(true);
  expect(third.jsonLines().some((l) => l.msg === 'job done' && l.sessionId === sessionId)).toBe(false);

  // The other device goes on syncing; the failed one acknowledges and may upload again.
  await otherSyncs();
  expect((await bomb.ack(sessionId)).body).toEqual({ status: 0 });
  expect((await bomb.status()).body).toMatchObject({ status: 0 });
  expect(await attendanceCount(suite.db, other.identity.id)).toBe(2);

  third.child.kill('SIGTERM');
  expect((await third.waitForExit(30_000)).code).toBe(0);
}, 240_000);
