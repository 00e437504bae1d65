// Data mart jobs: the run (cron DATAMART_EXPORT_CRON or POST /api/datamart/runs), upload
// status polling (DATAMART_POLL_CRON) and the stuck sweep (DATAMART_SWEEP_CRON). A schedule
// set to `off` is removed, so changing the configuration and restarting a worker is enough.
import { QUEUES, type DatamartRunJob } from '../../shared/jobs.js';
import { pollUploads } from '../datamart/poll.js';
import { runDatamart } from '../datamart/run.js';
import { sweepStuckStages } from '../datamart/sweep.js';
import type { WorkerContext } from '../context/context.js';
import { startPump, type Pump } from './pump.js';

export async function registerDatamartJobs(ctx: WorkerContext): Promise<Pump[]> {
  const { boss, config, logger } = ctx;
  const pumps = [
    startPump<DatamartRunJob>(boss, QUEUES.datamartRun, { concurrency: 1, idleMs: 2000, logger }, async (job) => runDatamart(ctx, job.data?.run_id ?? null)),
    startPump<object>(boss, QUEUES.datamartPoll, { concurrency: 1, idleMs: 5000, logger }, async () => pollUploads(ctx)),
    startPump<object>(boss, QUEUES.datamartSweep, { concurrency: 1, idleMs: 5000, logger }, async () => sweepStuckStages(ctx)),
  ];
  const schedules: Array<[string, string | null]> = [
    [QUEUES.datamartRun, config.datamart.exportCron],
    [QUEUES.datamartPoll, config.datamart.pollCron],
    [QUEUES.datamartSweep, config.datamart.sweepCron],
  ];
  for (const [queue, cron] of schedules) {
    if (cron === null) await boss.unschedule(queue);
    else await boss.schedule(queue, cron);
  }
  return pumps;
}
