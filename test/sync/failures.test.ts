// docs/protocol/v4.md §5 and §8 when things go wrong: a failing import is retried after a backoff (the
// pending session is its own queue entry, worker/import/session-queue.ts); when the retries are
// exhausted the session gets the processing_failed package, status 2, and nothing was imported.
// The stuck-session sweep fails a session stuck too long; an import job left in the retired
// pg-boss queue import-batch is deleted when a worker starts, and its session imported once.
// Each test starts the worker itself, after it has arranged the failure.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { ensureQueues, RETIRED_QUEUES } from '../../db/queue.js';
import { IMPORT_QUEUE } from '../../shared/jobs.js';
import { queueFigures } from '../../db/repositories/ops-figures.js';
import { createLogger } from '../../shared/logger.js';
import type { WorkerContext } from '../../worker/context/context.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { sweepSessions } from '../../worker/jobs/sweep-sessions.js';
import { connectTestDatabase } from '../support/database.js';
import { attendancesCsv, batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';
import { attendanceCount, waitFor } from './helpers.js';

const logger = createLogger('test-worker', process.env.TEST_LOG_LEVEL ?? 'silent');

interface Suite {
  stack: TestStack;
  db: ReturnType<typeof connectTestDatabase>;
  schoolId: number;
  userIds: number[];
  worker: RunningWorker | null;
}

/** An api without a worker, its pg-boss queues made. */
async function suite(env: Record<string, string>): Promise<Suite> {
  const stack = await startStack({ env });
  await ensureQueues(stack.api.ctx.boss, stack.config);
  const db = connectTestDatabase(stack.databaseUrl);
  const schoolId = (await aSchool(db.db)).id;
  const userIds = (await someUsers(db.db, schoolId, 3)).map((u) => u.id);
  return { stack, db, schoolId, userIds, worker: null };
}

async function closeSuite(s: Suite | undefined): Promise<void> {
  await s?.worker?.stop();
  await s?.db.close();
  await s?.stack.stop();
}

function batch(s: Suite): Buffer {
  return batchZip({
    'device.xml': deviceXml(),
    'attendances.csv': attendancesCsv(s.userIds.map((user_id, i) => ({ record_id: i + 1, user_id, type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }))),
  });
}

async function uploaded(s: Suite): Promise<{ dev: TestDevice; sessionId: string; bytes: Buffer }> {
  const dev = await new TestDevice(s.stack.url, await aDevice(s.db.db, s.schoolId)).signIn();
  const bytes = batch(s);
  const up = await dev.upload(bytes);
  expect(up.status).toBe(202);
  return { dev, sessionId: up.body.session_id, bytes };
}

/** The session as the import queue sees it: attempts made, and whether it waits for a retry. */
async function queued(s: Suite, sessionId: string): Promise<{ attempts: number; waiting_retry: boolean; processed: boolean; job_id: string | null }> {
  // Waiting for a retry: a failed attempt recorded its error and its backoff (the claim of an attempt sets retry_at too).
  const row = await sql<{ attempts: number; waiting_retry: boolean; processed: boolean; job_id: string | null }>`
    SELECT attempts, coalesce(retry_at > now() AND failure IS NOT NULL, false) AS waiting_retry, processed_at IS NOT NULL AS processed, job_id
    FROM sync_sessions WHERE id = ${sessionId}`.execute(s.db.db);
  return row.rows[0];
}

async function jobOf(s: Suite, jobId: string): Promise<{ state: string } | undefined> {
  const row = await sql<{ state: string }>`SELECT state FROM pgboss.job WHERE id = ${jobId}`.execute(s.db.db);
  return row.rows[0];
}

/** The archive bytes as stored are replaced: every import attempt will now fail. */
const corrupt = (s: Suite, sessionId: string) => s.db.db.updateTable('sync_sessions').set({ archive: Buffer.from('not a zip any more') }).where('id', '=', sessionId).execute();

async function expectProcessingFailed(s: Suite, dev: TestDevice, sessionId: string): Promise<void> {
  const ready = await dev.waitForStatus(2, 30_000);
  expect(ready.body.session_id).toBe(sessionId);
  const res = await dev.instructions();
  expect(res.status).toBe(200);
  const pkg = readPackage(res.body as Buffer);
  expect(pkg.all('instructions')[0]).toMatchObject({ session_id: sessionId });
  expect(pkg.all('error')).toEqual([{ code: 'processing_failed', retry: 'true', detail: expect.stringContaining('nothing of this batch was imported') }]);
  expect(pkg.all('import')).toEqual([]);
  expect(Object.keys(pkg.files)).toEqual(['instructions.xml']);
  const session = await s.db.db.selectFrom('sync_sessions').select(['outcome', 'stats', 'failure', 'processed_at']).where('id', '=', sessionId).executeTakeFirstOrThrow();
  expect(session).toMatchObject({ outcome: 'failed', stats: null, failure: expect.any(String), processed_at: expect.any(Date) });
  expect(await attendanceCount(s.db.db, dev.identity.id)).toBe(0);
  const rejections = await s.db.db.selectFrom('rejections').select('id').where('session_id', '=', sessionId).execute();
  expect(rejections).toEqual([]);
  expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 0 });
}

// One lane: a claim already under way in another lane when an attempt rolls back may try the
// session once more before the failure is recorded (worker/import/session-queue.ts), which
// would make the attempt counts below one higher.
describe('IMPORT_RETRY_LIMIT=0: the first failure is final', () => {
  let s: Suite;
  beforeAll(async () => { s = await suite({ IMPORT_RETRY_LIMIT: '0', WORKER_CONCURRENCY: '1' }); });
  afterAll(() => closeSuite(s));

  test('processing_failed package, status 2, nothing imported; after the ack the same rows go through', async () => {
    const { dev, sessionId, bytes } = await uploaded(s);
    // Stored without a pg-boss job: the pending row is the queue entry.
    expect(await queued(s, sessionId)).toEqual({ attempts: 0, waiting_retry: false, processed: false, job_id: null });
    // The queue's metrics count it as a waiting import.
    expect(await queueFigures(s.db.db)).toEqual([{ queue: IMPORT_QUEUE, state: 'created', jobs: 1, oldest_seconds: expect.any(Number) }]);
    await corrupt(s, sessionId);
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);

    await expectProcessingFailed(s, dev, sessionId);
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 1, processed: true });

    // The device acknowledges and, as told, sends the same rows again: a new session, imported.
    expect((await dev.ack(sessionId)).body).toEqual({ status: 0 });
    const again = await dev.sync(bytes);
    expect(again.sessionId).not.toBe(sessionId);
    expect(again.pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '3' });
  });
});

describe('sessions imported side by side (WORKER_CONCURRENCY=4)', () => {
  let s: Suite;
  beforeAll(async () => { s = await suite({ IMPORT_RETRY_LIMIT: '0', WORKER_CONCURRENCY: '4' }); });
  afterAll(() => closeSuite(s));

  test('one failing import does not hold back the others: each is imported once', async () => {
    // Waiting before the worker starts, so its four lanes claim them at once.
    const batches = [await uploaded(s), await uploaded(s), await uploaded(s), await uploaded(s)];
    const [failing, ...good] = batches;
    await corrupt(s, failing.sessionId);
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);

    await expectProcessingFailed(s, failing.dev, failing.sessionId);
    for (const b of good) {
      const ready = await b.dev.waitForStatus(2, 30_000);
      expect(ready.body.session_id).toBe(b.sessionId);
      const pkg = readPackage((await b.dev.instructions()).body as Buffer);
      expect(pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '3' });
      expect(await attendanceCount(s.db.db, b.dev.identity.id)).toBe(3);
    }
    const attempts = await s.db.db.selectFrom('sync_sessions').select('attempts').where('id', 'in', good.map((b) => b.sessionId)).execute();
    expect(attempts.map((a) => a.attempts)).toEqual([1, 1, 1]);
    // At least its one attempt (a lane's claim under way as it rolled back may have tried once more).
    expect(await queued(s, failing.sessionId)).toMatchObject({ attempts: expect.any(Number), processed: true });
    expect((await queued(s, failing.sessionId)).attempts).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

// Untried sessions due together are claimed and imported in one transaction (V4_GROUP in
// worker/import/session-queue.ts): one lane here, so the four waiting are one group.
describe('sessions due together, one lane (WORKER_CONCURRENCY=1)', () => {
  let s: Suite;
  beforeAll(async () => { s = await suite({ IMPORT_RETRY_LIMIT: '0', WORKER_CONCURRENCY: '1' }); });
  afterAll(() => closeSuite(s));

  const processedAt = async (ids: string[]) => (await s.db.db.selectFrom('sync_sessions').select(['id', 'processed_at', 'attempts']).where('id', 'in', ids).execute());

  test('are imported in one transaction, each with its own rows and package', async () => {
    const batches = [await uploaded(s), await uploaded(s), await uploaded(s), await uploaded(s)];
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);
    for (const b of batches) {
      expect((await b.dev.waitForStatus(2, 30_000)).body.session_id).toBe(b.sessionId);
      const pkg = readPackage((await b.dev.instructions()).body as Buffer);
      expect(pkg.all('instructions')[0]).toMatchObject({ session_id: b.sessionId });
      expect(pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '3', duplicates: '0', high_water_mark: '3' });
      expect(await attendanceCount(s.db.db, b.dev.identity.id)).toBe(3);
    }
    const rows = await processedAt(batches.map((b) => b.sessionId));
    // One commit: the transaction's time is every session's processed_at; one attempt each.
    expect(new Set(rows.map((r) => r.processed_at!.getTime())).size).toBe(1);
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1, 1]);
    await s.worker.stop();
    s.worker = null;
  }, 60_000);

  test('a large batch is imported alone, the small ones due with it together', async () => {
    const [small1, large, small2] = [await uploaded(s), await uploaded(s), await uploaded(s)];
    // Recorded as 200 KiB (the claim goes by archive_bytes): over V4_GROUP.eachMaxBytes.
    await s.db.db.updateTable('sync_sessions').set({ archive_bytes: 200 * 1024 }).where('id', '=', large.sessionId).execute();
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);
    for (const b of [small1, large, small2]) {
      expect((await b.dev.waitForStatus(2, 30_000)).body.session_id).toBe(b.sessionId);
      expect(await attendanceCount(s.db.db, b.dev.identity.id)).toBe(3);
    }
    const at = new Map((await processedAt([small1, large, small2].map((b) => b.sessionId))).map((r) => [r.id, r.processed_at!.getTime()]));
    expect(at.get(small1.sessionId)).toBe(at.get(small2.sessionId));
    expect(at.get(large.sessionId)).not.toBe(at.get(small1.sessionId));
    await s.worker.stop();
    s.worker = null;
  }, 60_000);

  test('one batch that cannot be imported: the group is imported again one by one, the others once', async () => {
    const batches = [await uploaded(s), await uploaded(s), await uploaded(s)];
    const [good1, failing, good2] = batches;
    await corrupt(s, failing.sessionId);
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);

    await expectProcessingFailed(s, failing.dev, failing.sessionId);
    for (const b of [good1, good2]) {
      expect((await b.dev.waitForStatus(2, 30_000)).body.session_id).toBe(b.sessionId);
      const pkg = readPackage((await b.dev.instructions()).body as Buffer);
      expect(pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '3' });
      expect(await attendanceCount(s.db.db, b.dev.identity.id)).toBe(3);
    }
    // Each its own transaction now, within the one attempt the claim counted.
    const rows = await processedAt(batches.map((b) => b.sessionId));
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1]);
    expect(new Set(rows.map((r) => r.processed_at!.getTime())).size).toBe(3);
  }, 60_000);
});

describe('IMPORT_RETRY_LIMIT=1: a failed attempt is retried after a backoff', () => {
  let s: Suite;
  beforeAll(async () => { s = await suite({ IMPORT_RETRY_LIMIT: '1', WORKER_CONCURRENCY: '1' }); });
  afterAll(() => closeSuite(s));

  test('the first attempt fails, the retry imports the batch exactly once', async () => {
    const { dev, sessionId, bytes } = await uploaded(s);
    await corrupt(s, sessionId);
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);

    // The failed attempt is counted and the session waits for its retry (5 s, doubled after each further failure)...
    await waitFor(async () => (await queued(s, sessionId)).waiting_retry, 15_000, 'the session waiting for its retry');
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 1, processed: false });
    expect(await queueFigures(s.db.db)).toEqual([{ queue: IMPORT_QUEUE, state: 'retry', jobs: 1, oldest_seconds: expect.any(Number) }]);
    expect((await dev.status()).body.status).toBe(1);
    // ...by which time the cause has gone.
    await s.db.db.updateTable('sync_sessions').set({ archive: bytes }).where('id', '=', sessionId).execute();

    await dev.waitForStatus(2, 30_000);
    const session = await s.db.db.selectFrom('sync_sessions').select(['outcome', 'stats']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(session.outcome).toBe('imported');
    expect(session.stats).toEqual({ 'attendances.csv': { received: 3, accepted: 3, duplicates: 0, rejected: 0, high_water_mark: 3 } });
    expect(await attendanceCount(s.db.db, dev.identity.id)).toBe(3);
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 2, processed: true });
  }, 60_000);

  test('both attempts fail: processing_failed once the retries are exhausted', async () => {
    // The previous test's worker would take the session the moment the upload commits, before
    // the archive is corrupted: a fresh worker comes after.
    await s.worker?.stop();
    s.worker = null;
    const { dev, sessionId } = await uploaded(s);
    await corrupt(s, sessionId);
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);
    await expectProcessingFailed(s, dev, sessionId);
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 2, processed: true });
  }, 60_000);
});

describe('the stuck-session sweep', () => {
  let s: Suite;
  let ctx: WorkerContext;
  beforeAll(async () => {
    s = await suite({});
    // The sweep as the worker runs it, with no import lane that could race the test.
    ctx = { config: s.stack.config, db: s.db.db, boss: s.stack.api.ctx.boss, logger };
  });
  afterEach(async () => {
    await s.worker?.stop();
    s.worker = null;
  });
  afterAll(() => closeSuite(s));

  test('a session in status 1, received recently, is left alone', async () => {
    const { sessionId } = await uploaded(s);
    const result = await sweepSessions(ctx);
    expect(result.failed).toEqual([]);
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 0, processed: false });
  });

  test('a job left in the retired import-batch queue (sent before uploads were their own queue entries) is deleted when a worker starts; its session is imported once', async () => {
    const boss = s.stack.api.ctx.boss;
    const { dev, sessionId } = await uploaded(s);
    // As an older version left it: the queue with a job naming the session.
    await boss.createQueue(RETIRED_QUEUES[0]);
    const jobId = await boss.send(RETIRED_QUEUES[0], { session_id: sessionId });
    await s.db.db.updateTable('sync_sessions').set({ job_id: jobId }).where('id', '=', sessionId).execute();
    expect(await jobOf(s, jobId!)).toEqual({ state: 'created' });

    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);
    await dev.waitForStatus(2);
    await s.worker.drain();
    expect(await attendanceCount(s.db.db, dev.identity.id)).toBe(3);
    expect(await queued(s, sessionId)).toMatchObject({ attempts: 1, processed: true });
    expect(await jobOf(s, jobId!)).toBeUndefined();
    for (const name of RETIRED_QUEUES) expect(await boss.getQueue(name)).toBeNull();
  });

  test('a session stuck in status 1 longer than SYNC_STUCK_AFTER_SECONDS is failed; the queue then imports nothing', async () => {
    const { dev, sessionId } = await uploaded(s);
    await s.db.db.updateTable('sync_sessions')
      .set({ received_at: sql`now() - make_interval(secs => ${s.stack.config.syncStuckAfterSeconds + 5})` })
      .where('id', '=', sessionId).execute();

    const result = await sweepSessions(ctx);
    expect(result.failed).toContain(sessionId);
    await expectProcessingFailed(s, dev, sessionId);

    // A worker coming after finds nothing to import.
    s.worker = await startWorker(s.stack.config, s.stack.databaseUrl, logger);
    await s.worker.drain();
    expect(await attendanceCount(s.db.db, dev.identity.id)).toBe(0);
    expect((await dev.status()).body).toMatchObject({ status: 2, session_id: sessionId });
    // The device is not blocked: it acknowledges and syncs again.
    expect((await dev.ack(sessionId)).status).toBe(200);
    expect((await dev.sync(batch(s))).pkg.all('import')[0]).toMatchObject({ accepted: '3' });
  });
});
