// The worker's Prometheus metrics on a port of its own (WORKER_METRICS_PORT, the api's bearer
// token): what its imports count (worker/import/import-metrics.ts) and the process's own
// figures, from prom-client's default registry. docs/OPERATIONS.md "Metrics" says why here.
import http from 'node:http';
import { register } from 'prom-client';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { bearerMatches, collectProcessMetrics } from '../shared/metrics.js';

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
