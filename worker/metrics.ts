// The worker's Prometheus metrics, counted as it imports, on a port of its own
// (WORKER_METRICS_PORT, the api's bearer token): import attempts by outcome, retries, their
// duration, the delay from an upload's acceptance to its package (status 2), and the rows of
// each batch (accepted, duplicates, rejections by code). docs/OPERATIONS.md "Metrics" says why here.
import http from 'node:http';
import { Counter, Histogram, register } from 'prom-client';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { bearerMatches, collectProcessMetrics } from '../shared/metrics.js';
import type { ImportedFigures, ImportOutcome } from './import/import-session.js';

const attempts = new Counter({
  name: 'attendance_import_jobs_total',
  help: 'Import attempts by outcome: imported, already_processed, not_current (reset meanwhile), missing, error (failed; retried up to IMPORT_RETRY_LIMIT)',
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

/** GET /metrics on WORKER_METRICS_PORT, behind the same bearer token as the api's. */
export async function serveWorkerMetrics(config: Config, logger: Logger): Promise<{ url: string; close(): Promise<void> } | null> {
  if (config.workerMetricsPort === null) return null;
  const token = config.metricsToken;
  if (token === null) {
    logger.warn('WORKER_METRICS_PORT is set but METRICS_TOKEN is not: the worker serves no metrics');
    return null;
  }
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } else if (!bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('unauthorized\n');
    } else {
      register.metrics().then(
        (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.workerMetricsPort!, config.host, () => resolve());
  });
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.workerMetricsPort}/metrics`;
  logger.info({ url }, 'worker metrics listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
