// What the stuck-session sweep needs to see: sessions still processing.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface ProcessingSession {
  id: string;
  received_at: Date;
}

/** v4 sessions in status 1 (still pending) received more than `olderThanSeconds` ago, oldest first. */
export async function stuckSessions(db: DbOrTrx, olderThanSeconds: number): Promise<ProcessingSession[]> {
  const rows = await sql<ProcessingSession>`
    SELECT se.id, se.received_at
    FROM sync_states st
    JOIN sync_sessions se ON se.id = st.session_id AND se.processed_at IS NULL
    WHERE st.status = 1 AND se.received_at < now() - make_interval(secs => ${olderThanSeconds})
    ORDER BY se.received_at
    LIMIT 1000
  `.execute(db);
  return rows.rows;
}

/** PUSH uploads of other tables (push_uploads) that arrived more than `days` ago are deleted: they are kept for staff to read, never imported. */
export async function prunePushUploads(db: DbOrTrx, days: number): Promise<number> {
  const result = await sql`DELETE FROM push_uploads WHERE received_at < now() - make_interval(days => ${days})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Archives of sessions acknowledged more than `days` ago are dropped; their SHA-256 stays. */
export async function pruneArchives(db: DbOrTrx, days: number): Promise<number> {
  const result = await sql`
    UPDATE sync_sessions SET archive = NULL
    WHERE archive IS NOT NULL AND processed_at IS NOT NULL AND received_at < now() - make_interval(days => ${days})
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
