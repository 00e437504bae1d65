// `GET /metrics`: Prometheus text format behind `Authorization: Bearer <METRICS_TOKEN>`
// (docs/OPERATIONS.md "Metrics" says why a token rather than a port of its own). Off (404)
// when no token is set.
import { Problem } from '../../shared/errors.js';
import { bearerMatches } from '../../shared/metrics.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { METRICS_CONTENT_TYPE, scrape } from '../http/metrics.js';
import { errors } from '../schemas/common.js';

export function metricsRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/metrics', summary: 'Prometheus metrics (text format)', tags: ['operations'], auth: 'none',
    responses: {
      200: { description: 'Requests, uploads, the job queue, devices, data mart runs and process figures (docs/OPERATIONS.md)', contentType: 'text/plain' },
      ...errors(401, 404),
    },
    async handler({ ctx, req }) {
      const token = ctx.config.metricsToken;
      if (token === null) throw new Problem('not_found', 'Metrics are off: set METRICS_TOKEN');
      if (!bearerMatches(req.get('authorization'), token)) {
        throw new Problem('unauthorized', 'Send Authorization: Bearer <METRICS_TOKEN>', {}, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
      }
      return reply.raw(await scrape(ctx), METRICS_CONTENT_TYPE);
    },
  });
}
