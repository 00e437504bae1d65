// What the stuck-session sweep needs to see: sessions still processing, and their jobs.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface ProcessingSession {
  id: string;
  job_id: string | null;
  received_at: Date;
  /** pg-boss state of its job, null when the job row is gone. */
  job_state: string | null;
}

export async function processingSessions(db: DbOrTrx, queue: string): Promise<ProcessingSession[]> {
  const rows = await sql<ProcessingSession>`
    SELECT se.id, se.job_id, se.received_at, j.state AS job_state
    FROM sync_states st
    JOIN sync_sessions se ON se.id = st.session_id AND se.processed_at IS NULL
    LEFT JOIN pgboss.job j ON j.name = ${queue} AND j.id = se.job_id
    WHERE st.status = 1
    ORDER BY se.received_at
    LIMIT 1000
  `.execute(db);
  return rows.rows;
}

export async function setSessionJob(db: DbOrTrx, sessionId: string, jobId: string | null): Promise<void> {
  await db.updateTable('sync_sessions').set({ job_id: jobId }).where('id', '=', sessionId).execute();
}

/** Archives of sessions acknowledged more than `days` ago are dropped; their SHA-256 stays. */
export async function pruneArchives(db: DbOrTrx, days: number): Promise<number> {
  const result = await sql`
    UPDATE sync_sessions SET archive = NULL
    WHERE archive IS NOT NULL AND processed_at IS NOT NULL AND received_at < now() - make_interval(days => ${days})
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
