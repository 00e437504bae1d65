// `GET /healthz`: 200 once the database answers, every migration is applied and the job queue
// has started, else 503.
import { z } from 'zod';
import { ping } from '../../db/database.js';
import { isMigrated } from '../../db/migrator.js';
import { Problem } from '../../shared/errors.js';
import { VERSION } from '../../shared/version.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors } from '../schemas/common.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../http/pg-errors.js';

export function healthRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/healthz', summary: 'Readiness: database reachable and migrated', tags: ['operations'], auth: 'none',
    responses: {
      200: {
        description: 'Ready, and the running version; with a read replica (DATABASE_REPLICA_URL), whether it answers (down: reads go to the primary, still ready)',
        schema: z.object({ status: z.literal('ok'), version: z.string(), replica: z.enum(['up', 'down']).optional() }),
      },
      ...errors(503),
    },
    async handler({ ctx }) {
      try {
        await ping(ctx.db);
        if (!ctx.readiness.migrated) ctx.readiness.migrated = await isMigrated(ctx.db);
      } catch (err) {
        ctx.logger.warn({ err: (err as Error).message }, 'healthz: database not reachable');
        throw new Problem('not_ready', 'The database is not reachable', {}, { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) });
      }
      if (!ctx.readiness.migrated) throw new Problem('not_ready', 'Migrations are not applied yet');
      if (!ctx.readiness.queue) throw new Problem('not_ready', 'The job queue is not ready yet');
      const replica = await ctx.replica.probe();
      return reply.ok({ status: 'ok', version: VERSION, ...(replica !== null && { replica }) });
    },
  });
}
