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
 * Runs an import attempt of one session or of a group (one transaction) and counts each
 * session's attempt (`retried`: an earlier attempt of it failed or expired). The figures of an
 * imported batch come from the import itself (`note`, called once it committed): reading them
 * back cost one statement per sync. A failed group counts nothing: its sessions are imported
 * again one by one within the same attempt, and those attempts count.
 */
export async function measureImports(sessions: ReadonlyArray<{ id: string; retried: boolean }>,
  run: (note: (sessionId: string, figures: ImportedFigures) => void) => Promise<Map<string, ImportOutcome>>): Promise<Map<string, ImportOutcome>> {
  const started = performance.now();
  const figures = new Map<string, ImportedFigures>();
  let outcomes: Map<string, ImportOutcome>;
  try {
    outcomes = await run((id, f) => { figures.set(id, f); });
  } catch (err) {
    if (sessions.length === 1) count(sessions[0].retried, 'error', (performance.now() - started) / 1000);
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  for (const { id, retried } of sessions) {
    const outcome = outcomes.get(id) ?? 'already_processed';
    count(retried, outcome, seconds);
    const f = figures.get(id);
    if (outcome === 'imported' && f) countRows(f);
  }
  return outcomes;
}

function count(retried: boolean, outcome: ImportOutcome | 'error', seconds: number): void {
  if (retried) retries.inc();
  duration.observe({ outcome }, seconds);
  attempts.inc({ outcome });
}

function countRows(f: ImportedFigures): void {
  readyDelay.observe({ channel: f.channel }, f.readySeconds);
  for (const s of Object.values(f.stats)) {
    rows.inc({ channel: f.channel, result: 'accepted' }, s.accepted);
    rows.inc({ channel: f.channel, result: 'duplicate' }, s.duplicates);
    rows.inc({ channel: f.channel, result: 'rejected' }, s.rejected);
  }
  for (const [code, n] of Object.entries(f.rejections)) rejections.inc({ channel: f.channel, code }, n);
}

/** A batch given up after its retries (the dead-letter handler). */
export function countFailedSession(gaveUp: boolean): void {
  if (gaveUp) failed.inc();
}
