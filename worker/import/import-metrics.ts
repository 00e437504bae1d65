// What the worker counts of its imports (served by worker/metrics.ts on WORKER_METRICS_PORT):
// import attempts by outcome, retries, their duration, the delay from an upload's acceptance to
// its package (status 2), and the rows of each batch (accepted, duplicates, rejections by code).
// They live with the import, which counts them; worker/metrics.ts only serves the registry.
import { Counter, Histogram } from 'prom-client';
import type { ImportedFigures, ImportOutcome } from './import-session.js';

const attempts = new Counter({
  name: 'attendance_import_jobs_total',
  help: 'Import attempts by outcome: imported, already_processed, not_current (reset meanwhile), error (failed; retried up to IMPORT_RETRY_LIMIT)',
  labelNames: ['outcome'] as const,
});
const retries = new Counter({ name: 'attendance_import_retries_total', help: 'Import attempts that retried an earlier failed or expired one' });
const failed = new Counter({ name: 'attendance_import_failed_sessions_total', help: 'Batches given up after every retry (the device gets a processing_failed package)' });
const duration = new Histogram({
  name: 'attendance_import_duration_seconds', help: 'Time of one import attempt, by outcome',
  labelNames: ['outcome'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
});
const readyDelay = new Histogram({
  name: 'attendance_import_ready_delay_seconds', help: 'From an upload accepted (status 1) to its package ready (status 2), by channel',
  labelNames: ['channel'] as const, buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
});
const rows = new Counter({
  name: 'attendance_import_rows_total', help: 'Rows of imported CSV logs by channel and result: accepted, duplicate, rejected',
  labelNames: ['channel', 'result'] as const,
});
const rejections = new Counter({
  name: 'attendance_import_rejections_total', help: 'Rows rejected by channel and protocol code (docs/protocol/v4.md §5)',
  labelNames: ['channel', 'code'] as const,
});

/**
 * Runs one import attempt and counts it (`retryCount`: the earlier attempts, known once it has
 * claimed its session). The figures of an imported batch come from the import itself (`note`,
 * called once it committed): reading them back cost one statement per sync.
 */
export async function measureImport(retryCount: () => number,
  run: (note: (figures: ImportedFigures) => void) => Promise<ImportOutcome>): Promise<ImportOutcome> {
  const end = duration.startTimer();
  let outcome: ImportOutcome;
  let figures: ImportedFigures | null = null;
  try {
    outcome = await run((f) => { figures = f; });
  } catch (err) {
    if (retryCount() > 0) retries.inc();
    end({ outcome: 'error' });
    attempts.inc({ outcome: 'error' });
    throw err;
  }
  if (retryCount() > 0) retries.inc();
  end({ outcome });
  attempts.inc({ outcome });
  const f = figures as ImportedFigures | null;
  if (outcome === 'imported' && f) {
    readyDelay.observe({ channel: f.channel }, f.readySeconds);
    for (const s of Object.values(f.stats)) {
      rows.inc({ channel: f.channel, result: 'accepted' }, s.accepted);
      rows.inc({ channel: f.channel, result: 'duplicate' }, s.duplicates);
      rows.inc({ channel: f.channel, result: 'rejected' }, s.rejected);
    }
    for (const [code, n] of Object.entries(f.rejections)) rejections.inc({ channel: f.channel, code }, n);
  }
  return outcome;
}

/** A batch given up after its retries (the dead-letter handler). */
export function countFailedSession(gaveUp: boolean): void {
  if (gaveUp) failed.inc();
}
