// The worker process: pg-boss with maintenance and cron, one handler per queue, woken when a
// job is sent (db/job-notifications.ts). `stop()` stops fetching, lets jobs in hand finish,
// then closes the pool.
import { connectDatabase, type Db } from '../db/database.js';
import { listenForJobs } from '../db/job-notifications.js';
import { createBoss, ensureQueues, type PgBoss } from '../db/queue.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { registerJobs } from './jobs/index.js';
import { startRosterLoop } from '../channels/push/roster.js';

export interface WorkerContext {
  config: Config;
  db: Db;
  boss: PgBoss;
  logger: Logger;
}

export interface RunningWorker {
  ctx: WorkerContext;
  stop(): Promise<void>;
}

export async function startWorker(config: Config, databaseUrl: string, logger: Logger): Promise<RunningWorker> {
  const database = connectDatabase(databaseUrl, { max: config.dbPoolMax, logger, applicationName: 'attendance-worker' });
  const boss = createBoss(databaseUrl, { logger, role: 'worker', superviseIntervalSeconds: config.queueMaintenanceSeconds });
  await boss.start();
  await ensureQueues(boss, config);
  const ctx: WorkerContext = { config, db: database.db, boss, logger };
  const jobs = await registerJobs(ctx);
  const listener = listenForJobs(databaseUrl, { logger, applicationName: 'attendance-worker-listen' }, (queue) => jobs.wake(queue));
  await listener.ready;
  // PUSH terminals get roster changes as commands (channels/push/roster.ts).
  const pushRoster = startRosterLoop(database.db, logger, config.pushRosterSeconds);
  let stopping: Promise<void> | null = null;
  return {
    ctx,
    stop() {
      stopping ??= (async () => {
        await pushRoster.stop();
        await listener.stop();
        await jobs.stop();
        await boss.stop({ graceful: true, close: true, timeout: 15_000 }).catch(() => undefined);
        await database.close();
      })();
      return stopping;
    },
  };
}
