// Every queue the worker serves. Returns `wake(queue)` (a job was sent: db/job-notifications.ts)
// and `stop()`, which stops taking new jobs and waits for those in hand.
import { prunePushUploads } from '../../db/repositories/sweep.js';
import { pruneRetention } from '../../db/repositories/retention.js';
import { ensureMonths, retentionJob } from './partitions.js';
import { chunkFailed } from '../../db/repositories/rebuilds.js';
import { IMPORT_QUEUE, QUEUES, type RebuildChunkJob } from '../../shared/jobs.js';
import type { WorkerContext } from '../context/context.js';
import { registerDatamartJobs } from './datamart.js';
import { startPump } from './pump.js';
import { startImportQueue } from '../import/session-queue.js';
import { closeOpenDays } from './close-open-days.js';
import { rebuildChunk } from './rebuild-figures.js';
import { sweepSessions } from './sweep-sessions.js';

export interface RegisteredJobs {
  /** Wakes the pump of `queue`, or every pump when null. */
  wake(queue: string | null): void;
  stop(): Promise<void>;
}

export async function registerJobs(ctx: WorkerContext): Promise<RegisteredJobs> {
  const { boss, config, logger } = ctx;
  const pumps = [
    // Chunks of one rebuild run side by side: a rebuild of a school year is ~40 independent weeks.
    startPump<RebuildChunkJob>(boss, QUEUES.rebuildChunk, { concurrency: 2, idleMs: 500, logger }, async (job) => rebuildChunk(ctx, job.data)),
    startPump<RebuildChunkJob>(boss, QUEUES.rebuildChunkDead, { concurrency: 1, idleMs: 2000, logger }, async (job) => chunkFailed(ctx.db, job.data.school_id, job.data.rebuild_id)),
    startPump<object>(boss, QUEUES.sweepSessions, { concurrency: 1, idleMs: 2000, logger }, async () => sweepSessions(ctx)),
    startPump<object>(boss, QUEUES.closeOpenDays, { concurrency: 1, idleMs: 5000, logger }, async () => closeOpenDays(ctx)),
    startPump<object>(boss, QUEUES.pruneArchives, { concurrency: 1, idleMs: 5000, logger }, async () => ({ pruned: await pruneRetention(ctx.db, {
      archiveDays: config.archiveRetentionDays, packageDays: config.retentionPackageDays, photoDays: config.retentionPhotoDays, temperatureDays: config.retentionTemperatureDays,
    }), pushUploads: await prunePushUploads(ctx.db, config.pushUploadRetentionDays), months: await retentionJob(ctx) })),
    startPump<object>(boss, QUEUES.ensurePartitions, { concurrency: 1, idleMs: 5000, logger }, async () => ({ made: await ensureMonths(ctx) })),
  ];
  // Every upload, v4 and PUSH: the pending session rows are the queue.
  const imports = startImportQueue(ctx, { concurrency: config.workerConcurrency });
  await boss.schedule(QUEUES.sweepSessions, '* * * * *');
  await boss.schedule(QUEUES.pruneArchives, '17 3 * * *');
  // Daily: a month's partition exists PARTITION_MONTHS_AHEAD months before its first row (the migration made this month's and the next).
  await boss.schedule(QUEUES.ensurePartitions, '41 2 * * *');
  // Hourly, since schools' local midnights fall on different UTC hours.
  await boss.schedule(QUEUES.closeOpenDays, '5 * * * *');
  pumps.push(...await registerDatamartJobs(ctx));
  return {
    wake(queue) {
      if (queue === null || queue === IMPORT_QUEUE) imports.wake();
      for (const p of pumps) if (queue === null || p.queue === queue) p.wake();
    },
    async stop() {
      await imports.stop();
      await Promise.all(pumps.map((p) => p.stop()));
    },
  };
}
