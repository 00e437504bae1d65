// `npm run api`: API_PROCESSES processes share one port (node:cluster), the primary
// restarting any that dies, with backoff. Needs DATABASE_URL.
import cluster from 'node:cluster';
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { backoffMs, installCrashHandlers, onShutdown, stopWithSupervisor } from '../runtime/process.js';
import { serveClusterMetrics } from './http/metrics.js';
import { startApi } from './server.js';

const config = loadConfigOrExit();
const logger = createLogger(cluster.isPrimary ? 'api' : `api-${cluster.worker?.id}`, config.logLevel, config.logFormat);
installCrashHandlers(logger);

if (!config.databaseUrl) {
  logger.fatal('DATABASE_URL is required for `npm run api` (use `npm start` for an embedded database)');
  process.stderr.write('configuration error: DATABASE_URL: required for npm run api\n');
  process.exit(78);
}
const databaseUrl = config.databaseUrl;

if (config.apiProcesses > 1 && cluster.isPrimary) {
  let stopping = false;
  const crashes = new Map<number, number>();
  const fork = (slot: number) => {
    const child = cluster.fork({ API_SLOT: String(slot) });
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      if (stopping) return;
      const recent = Date.now() - startedAt < 60_000 ? (crashes.get(slot) ?? 0) + 1 : 1;
      crashes.set(slot, recent);
      const delay = backoffMs(recent);
      logger.error({ slot, code, signal, restartInMs: delay }, 'api process died: restarting');
      setTimeout(() => fork(slot), delay);
    });
  };
  serveClusterMetrics();
  stopWithSupervisor(logger);
  for (let slot = 0; slot < config.apiProcesses; slot++) fork(slot);
  logger.info({ processes: config.apiProcesses, port: config.port }, 'api processes starting');
  onShutdown(logger, async () => {
    stopping = true;
    const children = Object.values(cluster.workers ?? {});
    await Promise.all(children.map((w) => new Promise<void>((resolve) => {
      if (!w || w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    })));
  });
} else {
  const api = await startApi(config, databaseUrl, logger);
  logger.info({ url: api.url }, 'api listening');
  onShutdown(logger, () => api.stop());
  // A cluster worker's channel leads to the api primary, which stops it itself.
  if (!cluster.isWorker) stopWithSupervisor(logger);
}
