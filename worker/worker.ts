// The worker process: pg-boss with maintenance and cron, one handler per queue, woken when a
// job is sent (db/job-notifications.ts). `stop()` stops fetching, lets jobs in hand finish,
// then closes the pool.
import { createAttendanceStage, stageInEachTransaction } from '../db/repositories/staged-attendances.js';
import { prepareRepeatedStatements } from '../db/pg-statements.js';
import { connectDatabase } from '../db/database.js';
import { listenForJobs } from '../db/job-notifications.js';
import { unfinishedJobs } from '../db/repositories/job-queue.js';
import { createBoss, ensureQueues } from '../db/queue.js';
import type { Config } from '../shared/config.js';
import { IMPORT_QUEUE, QUEUES } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerContext } from './context/context.js';
import { registerJobs } from './jobs/index.js';
import { serveWorkerMetrics } from './metrics.js';
import { startRosterLoop } from '../channels/push/roster.js';


export interface RunningWorker {
  ctx: WorkerContext;
  /**
   * Resolves once these queues (default: every queue but the data mart's) hold no job waiting,
   * retrying or in hand; rejects after `timeoutMs`. For tests and tools that need "the work is
   * done" rather than watching the api for its effects.
   */
  drain(opts?: { queues?: readonly string[]; timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Work that follows an upload or a request; the data mart's runs talk to a remote service and are awaited on their own. */
const DRAINED_QUEUES = [IMPORT_QUEUE, QUEUES.rebuildChunk, QUEUES.rebuildChunkDead, QUEUES.sweepSessions, QUEUES.closeOpenDays, QUEUES.pruneArchives];

export async function startWorker(config: Config, databaseUrl: string, logger: Logger): Promise<RunningWorker> {
  // Behind a pooler in transaction mode (DATABASE_DIRECT_URL set) a connection is a different
  // server session at every transaction: nothing is prepared per connection, the import stage is
  // made in each import's transaction (db/repositories/staged-attendances.ts), and LISTEN goes to
  // the database directly. pg-boss needs no session of its own (no LISTEN, transaction locks only).
  const pooled = config.databaseDirectUrl !== null;
  if (pooled) stageInEachTransaction();
  else prepareRepeatedStatements(); // db/pg-statements.ts: parsed once per connection
  const database = connectDatabase(databaseUrl, { max: config.dbPoolMax, logger, applicationName: 'attendance-worker', onConnect: pooled ? undefined : createAttendanceStage });
  const boss = createBoss(databaseUrl, { logger, role: 'worker', superviseIntervalSeconds: config.queueMaintenanceSeconds });
  await boss.start();
  await ensureQueues(boss, config);
  const ctx: WorkerContext = { config, db: database.db, boss, logger };
  const jobs = await registerJobs(ctx);
  const listener = listenForJobs(config.databaseDirectUrl ?? databaseUrl, { logger, applicationName: 'attendance-worker-listen' }, (queue) => jobs.wake(queue));
  await listener.ready;
  // PUSH terminals get roster changes as commands (channels/push/roster.ts); silent terminals' commands fail at their deadline.
  const pushRoster = startRosterLoop(database.db, logger, config.pushRosterSeconds, { resendAfterSeconds: config.pushCommandAnswerSeconds, maxSends: config.pushCommandMaxSends });
  const metrics = await serveWorkerMetrics(config, logger);
  let stopping: Promise<void> | null = null;
  return {
    ctx,
    async drain({ queues = DRAINED_QUEUES, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // Woken first: a job sent a moment ago is fetched now, not at the pump's next idle tick.
        jobs.wake(null);
        const left = await unfinishedJobs(database.db, queues);
        if (left === 0) return;
        if (Date.now() > deadline) throw new Error(`worker not drained after ${timeoutMs} ms: ${left} job(s) left in ${queues.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    stop() {
      stopping ??= (async () => {
        await pushRoster.stop();
        await metrics?.close();
        await listener.stop();
        await jobs.stop();
        await boss.stop({ graceful: true, close: true, timeout: 15_000 }).catch(() => undefined);
        await database.close();
      })();
      return stopping;
    },
  };
}
