// A job sent wakes the worker at once instead of at its next poll (db/job-notifications.ts): the
// sending transaction NOTIFYs, delivered at its commit and never for a rollback; the worker
// listens on a connection of its own; a woken pump fetches without finishing its nap. A v4
// upload sends no job and no NOTIFY: its pending session is the queue entry, found by the
// worker's idle probe (worker/import/session-queue.ts).
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { listenForJobs, notifyJobSent, JOBS_CHANNEL } from '../../db/job-notifications.js';
import type { PgBoss } from '../../db/queue.js';
import { IMPORT_QUEUE } from '../../shared/jobs.js';
import { createLogger } from '../../shared/logger.js';
import { startPump } from '../../worker/jobs/pump.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const suite = useSuite({ worker: true });

/** Collects what a listener hears; `next(payload)` resolves when that payload arrives. */
async function listening() {
  const heard: Array<string | null> = [];
  const waiters: Array<{ payload: string; resolve: () => void }> = [];
  // LISTEN past the pooler when the suite runs behind one (TEST_POOLER=1).
  const listener = listenForJobs(suite.config.databaseDirectUrl ?? suite.databaseUrl, { logger, applicationName: 'test-listen' }, (queue) => {
    heard.push(queue);
    for (const w of waiters.filter((x) => x.payload === queue)) w.resolve();
  });
  await listener.ready;
  const next = (payload: string) => new Promise<void>((resolve) => {
    if (heard.includes(payload)) resolve();
    else waiters.push({ payload, resolve });
  });
  return { heard, next, stop: () => listener.stop() };
}

test('an accepted upload is imported without a job or an announcement: the pending session is the queue entry', async () => {
  const heard = await listening();
  try {
    const school = await aSchool(suite.db);
    const [user] = await someUsers(suite.db, school.id, 1);
    const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
    const csv = attendancesCsv([{ record_id: 1, user_id: user.id, type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }]);
    const up = await dev.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }));
    expect(up.status).toBe(202);
    // The running worker found it (status 2) with no job row and no notification.
    expect((await dev.waitForStatus(2)).body.session_id).toBe(up.body.session_id);
    const jobs = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pgboss.job WHERE name = ${IMPORT_QUEUE}`.execute(suite.db);
    expect(jobs.rows[0].n).toBe(0);
    // Notifications arrive in commit order: once this marker is in, an upload's would have been.
    await suite.db.transaction().execute((trx) => notifyJobSent(trx, 'queue-marker'));
    await heard.next('queue-marker');
    expect(heard.heard).not.toContain(IMPORT_QUEUE);
    // The worker still holds its own listening connection, for the queues that send jobs.
    const listeners = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'attendance-worker-listen' AND query = ${`LISTEN ${JOBS_CHANNEL}`}`.execute(suite.db);
    expect(listeners.rows[0].n).toBe(1);
  } finally {
    await heard.stop();
  }
});

test('the announcement arrives at the commit, and a rolled-back send announces nothing', async () => {
  const heard = await listening();
  try {
    let announcedBeforeCommit = true;
    await suite.db.transaction().execute(async (trx) => {
      await notifyJobSent(trx, 'queue-committed');
      // A round trip on another connection: a notification sent at once would be in by now.
      await sql`SELECT pg_sleep(0.2)`.execute(suite.db);
      announcedBeforeCommit = heard.heard.includes('queue-committed');
    });
    expect(announcedBeforeCommit).toBe(false);
    await heard.next('queue-committed');

    await expect(suite.db.transaction().execute(async (trx) => {
      await notifyJobSent(trx, 'queue-rolled-back');
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    // Notifications arrive in commit order: once this one is in, the rolled-back one never will be.
    await suite.db.transaction().execute((trx) => notifyJobSent(trx, 'queue-marker'));
    await heard.next('queue-marker');
    expect(heard.heard).not.toContain('queue-rolled-back');
  } finally {
    await heard.stop();
  }
});

test('a woken pump fetches at once instead of finishing its nap', async () => {
  const boss = suite.api.ctx.boss;
  const queue = 'test-wakeup';
  await boss.createQueue(queue);
  let firstEmptyFetch!: () => void;
  const napping = new Promise<void>((resolve) => { firstEmptyFetch = resolve; });
  // The pump's view of pg-boss: the real one, telling us when a fetch came back empty.
  const spy = {
    fetch: async (name: string, opts: Parameters<PgBoss['fetch']>[1]) => {
      const jobs = await boss.fetch(name, opts);
      if (!jobs?.length) firstEmptyFetch();
      return jobs;
    },
    complete: (name: string, id: string, data?: object) => boss.complete(name, id, data),
    fail: (name: string, id: string, data?: object) => boss.fail(name, id, data),
  } as unknown as PgBoss;
  let handled!: (id: string) => void;
  const done = new Promise<string>((resolve) => { handled = resolve; });
  const pump = startPump<object>(spy, queue, { concurrency: 1, idleMs: 10 * 60_000, logger }, async (job) => handled(job.id));
  try {
    await napping; // the queue was empty: the pump now naps ten minutes
    const jobId = await boss.send(queue, {});
    pump.wake();
    const tooLate = new Promise<string>((resolve) => setTimeout(() => resolve('still napping'), 20_000).unref());
    expect(await Promise.race([done, tooLate])).toBe(jobId);
  } finally {
    await pump.stop();
  }
});
