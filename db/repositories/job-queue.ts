// What pg-boss still holds for some queues: jobs waiting (created, or retry after a failure) or
// in hand (active). The worker's drain() waits for none to be left.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export async function unfinishedJobs(db: DbOrTrx, queues: readonly string[]): Promise<number> {
  if (queues.length === 0) return 0;
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pgboss.job
    WHERE name = ANY(${[...queues]}::text[]) AND state IN ('created', 'retry', 'active')`.execute(db);
  return rows[0]?.n ?? 0;
}
