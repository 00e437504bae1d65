// What pg-boss still holds for some queues: jobs waiting (created, or retry after a failure) or
// in hand (active). The worker's drain() waits for none to be left.
// Pending sessions, v4 and PUSH, count for `import-batch` (IMPORT_QUEUE): the pending row is
// their import's queue entry (worker/import/session-queue.ts), including one waiting for its retry.
import { sql } from 'kysely';
import { IMPORT_QUEUE } from '../../shared/jobs.js';
import type { DbOrTrx } from '../database.js';

export async function unfinishedJobs(db: DbOrTrx, queues: readonly string[]): Promise<number> {
  if (queues.length === 0) return 0;
  const { rows } = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM pgboss.job WHERE name = ANY(${[...queues]}::text[]) AND state IN ('created', 'retry', 'active'))::int
      + CASE WHEN ${queues.includes(IMPORT_QUEUE)}::boolean
          THEN (SELECT count(*) FROM sync_sessions WHERE processed_at IS NULL)::int ELSE 0 END AS n`.execute(db);
  return rows[0]?.n ?? 0;
}
