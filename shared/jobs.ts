// The pg-boss queues both processes agree on, and their payloads.

export const QUEUES = {
  importBatch: 'import-batch',
  /** Jobs of import-batch whose retries are exhausted land here; the sweep fails their sessions. */
  importBatchDead: 'import-batch-dead',
  /** PUSH ATTLOG sessions: one job imports every pending one (policy short: uploads join the job waiting). */
  importPush: 'import-push',
  sweepSessions: 'sweep-sessions',
  pruneArchives: 'prune-archives',
  rebuildChunk: 'rebuild-figures-chunk',
  rebuildChunkDead: 'rebuild-figures-chunk-dead',
  /** Hourly: closes yesterday's user-days still open (missing_checkout) in every timezone. */
  closeOpenDays: 'close-open-days',
  /** Collect + export to the regional data mart; sent by cron (no data) or POST /api/datamart/runs. */
  datamartRun: 'datamart-run',
  datamartPoll: 'datamart-poll',
  datamartSweep: 'datamart-sweep',
} as const;

export interface DatamartRunJob {
  /** A run queued by the API; absent when cron sent the job. */
  run_id?: number;
}

export interface ImportBatchJob {
  session_id: string;
}

export interface RebuildChunkJob {
  rebuild_id: number;
  school_id: number;
  /** Inclusive local dates, at most one week. */
  from: string;
  to: string;
}
