// A v4 upload's pending session row is its import's durable queue entry (docs/ARCHITECTURE.md
// "The import queue"), as a PUSH session's already is: the upload commits the session with the
// 0→1 flip in one statement, and a worker claims pending sessions with FOR UPDATE SKIP LOCKED
// inside the import's own transaction. The pg-boss job per upload cost three writes to
// pgboss.job (send, fetch, complete) and two commits per sync, a third of PostgreSQL's CPU at
// 20,000 devices (issue #21). `retry_at` is the backoff after a failed attempt (null: now);
// `attempts` already counts the attempts.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_sessions ADD COLUMN retry_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_sessions DROP COLUMN IF EXISTS retry_at`.execute(db);
}
