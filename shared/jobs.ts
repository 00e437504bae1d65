// The pg-boss queues both processes agree on, and their payloads.

/**
 * The import queue's name in metrics (`attendance_queue_jobs{queue=…}`) and log lines: the
 * pending sessions, v4 and PUSH (worker/import/session-queue.ts). The name of the pg-boss queue
 * that held import jobs before, so dashboards and alerts keep reading the same series; no
 * pg-boss queue has it any more (db/queue.ts RETIRED_QUEUES).
 */
export const IMPORT_QUEUE = 'import-batch';

export const QUEUES = {
  sweepSessions: 'sweep-sessions',
  pruneArchives: 'prune-archives',
  rebuildChunk: 'rebuild-figures-chunk',
  rebuildChunkDead: 'rebuild-figures-chunk-dead',
  /** Hourly: closes yesterday's user-days still open (missing_checkout) in every timezone. */
  closeOpenDays: 'close-open-days',
  /** Daily: the monthly partitions of the punch tables, three months ahead (db/repositories/partitions.ts). */
  ensurePartitions: 'ensure-partitions',
  /** Collect + export to the regional data mart; sent by cron (no data) or POST /api/datamart/runs. */
  datamartRun: 'datamart-run',
  datamartPoll: 'datamart-poll',
  datamartSweep: 'datamart-sweep',
} as const;

export interface DatamartRunJob {
  /** A run queued by the API; absent when cron sent the job. */
  run_id?: number;
}

export interface RebuildChunkJob {
  rebuild_id: number;
  school_id: number;
  /** Inclusive local dates, at most one week. */
  from: string;
  to: string;
}
