// The pg-boss queues both processes agree on, and their payloads.

export const QUEUES = {
  importBatch: 'import-batch',
  /** Jobs of import-batch whose retries are exhausted land here; the sweep fails their sessions. */
  importBatchDead: 'import-batch-dead',
  sweepSessions: 'sweep-sessions',
  pruneArchives: 'prune-archives',
  rebuildFigures: 'rebuild-figures',
  rebuildChunk: 'rebuild-figures-chunk',
} as const;

export interface ImportBatchJob {
  session_id: string;
}
