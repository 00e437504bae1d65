// Reads on a streaming replica (api/context/replica.ts): where the primary's WAL is, and whether
// a replica has replayed it. Positions are compared by PostgreSQL (pg_lsn), never in JS.
import { sql } from 'kysely';
import type { DbOrTrx } from './database.js';

/** The primary's current WAL write position: every transaction committed before is at or below it. */
export async function currentWalPosition(primary: DbOrTrx): Promise<string> {
  const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(primary);
  return rows[0].lsn;
}

/**
 * Whether the replica has replayed the primary's WAL up to `position` (so it shows every
 * transaction committed there before). False on a server that is not in recovery: a replica
 * promoted or a primary named by mistake has no replay position to trust.
 */
export async function replayedUpTo(replica: DbOrTrx, position: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean | null }>`SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= ${position}::pg_lsn AS ok`.execute(replica);
  return rows[0].ok === true;
}
