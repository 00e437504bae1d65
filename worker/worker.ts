// The worker process: pg-boss with maintenance and cron, and one handler per queue.
// `stop()` stops fetching, lets jobs in hand finish, then closes the pool.
import { connectDatabase, type Db } from '../db/database.js';
import { createBoss, ensureQueues, type PgBoss } from '../db/queue.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { registerJobs } from './jobs/index.js';

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
  const boss = createBoss(databaseUrl, { logger, role: 'worker', maintenanceIntervalSeconds: config.queueMaintenanceSeconds });
  await boss.start();
  await ensureQueues(boss, config);
  const ctx: WorkerContext = { config, db: database.db, boss, logger };
  const stopJobs = await registerJobs(ctx);
  let stopping: Promise<void> | null = null;
  return {
    ctx,
    stop() {
      stopping ??= (async () => {
        await stopJobs();
        await boss.stop({ graceful: true, wait: true, close: true, timeout: 15_000 }).catch(() => undefined);
        await database.close();
      })();
      return stopping;
    },
  };
}
