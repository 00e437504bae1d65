// Every queue the worker serves. Returns a function that stops taking new jobs and waits for those in hand.
import { pruneArchives } from '../../db/repositories/sweep.js';
import { QUEUES, type ImportBatchJob } from '../../shared/jobs.js';
import { failSession, importSession } from '../import/import-session.js';
import type { WorkerContext } from '../worker.js';
import { startPump } from './pump.js';
import { sweepSessions } from './sweep-sessions.js';

export async function registerJobs(ctx: WorkerContext): Promise<() => Promise<void>> {
  const { boss, config, logger } = ctx;
  const pumps = [
    startPump<ImportBatchJob>(boss, QUEUES.importBatch, { concurrency: config.workerConcurrency, idleMs: 200, logger }, async (job) => {
      return importSession(ctx, job.data.session_id);
    }),
    // Retries exhausted: pg-boss copied the job here.
    startPump<ImportBatchJob>(boss, QUEUES.importBatchDead, { concurrency: 1, idleMs: 1000, logger }, async (job) => {
      return failSession(ctx, job.data.session_id, 'import failed after all retries');
    }),
    startPump<object>(boss, QUEUES.sweepSessions, { concurrency: 1, idleMs: 2000, logger }, async () => sweepSessions(ctx)),
    startPump<object>(boss, QUEUES.pruneArchives, { concurrency: 1, idleMs: 5000, logger }, async () => ({ pruned: await pruneArchives(ctx.db, config.archiveRetentionDays) })),
  ];
  await boss.schedule(QUEUES.sweepSessions, '* * * * *');
  await boss.schedule(QUEUES.pruneArchives, '17 3 * * *');
  return async () => {
    await Promise.all(pumps.map((p) => p.stop()));
  };
}
