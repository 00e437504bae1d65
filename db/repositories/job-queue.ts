// What pg-boss still holds for some queues: jobs waiting (created, or retry after a failure) or
// in hand (active). The worker's drain() waits for none to be left.
// PUSH sessions waiting for their import count as work left when `import-push` is drained: their
// job is sent by the worker once it hears of them (channels/push/session.ts), not with the upload.
// Pending v4 sessions count for `import-batch`: the pending row is their queue entry
// (worker/import/session-queue.ts), including one waiting for its retry.
import { sql } from 'kysely';
import { QUEUES } from '../../shared/jobs.js';
import { PUSH_SESSION_CHANNEL } from '../../shared/protocol/push.js';
import type { DbOrTrx } from '../database.js';

export async function unfinishedJobs(db: DbOrTrx, queues: readonly string[]): Promise<number> {
  if (queues.length === 0) return 0;
  const { rows } = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM pgboss.job WHERE name = ANY(${[...queues]}::text[]) AND state IN ('created', 'retry', 'active'))::int
      + CASE WHEN ${queues.includes(QUEUES.importPush)}::boolean
          THEN (SELECT count(*) FROM sync_sessions WHERE processed_at IS NULL AND channel = ${PUSH_SESSION_CHANNEL})::int ELSE 0 END
      + CASE WHEN ${queues.includes(QUEUES.importBatch)}::boolean
          THEN (SELECT count(*) FROM sync_sessions WHERE processed_at IS NULL AND channel <> ${PUSH_SESSION_CHANNEL})::int ELSE 0 END AS n`.execute(db);
  return rows[0]?.n ?? 0;
}
