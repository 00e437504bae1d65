// What PostgreSQL spent its time on, per unit of a scenario's work (`--statements`: bench/run.ts
// loads pg_stat_statements for the run), for the scenarios that report it (fleet, ingest).
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/** Forgets what pg_stat_statements recorded, so that a step reads only its own statements. */
export async function resetStatements(db: Db): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`.execute(db);
  await sql`SELECT pg_stat_statements_reset()`.execute(db);
}

/** The statements of this database that took most of PostgreSQL's time (planning and execution), per unit of work (a completed sync, 1,000 rows …). */
export async function topStatements(db: Db, units: number, limit = 40): Promise<string[]> {
  const { rows } = await sql<{ calls: string; ms: number; plan_ms: number; rows: string; blocks: string; query: string }>`
    SELECT calls::text, total_exec_time AS ms, total_plan_time AS plan_ms, rows::text, (shared_blks_hit + shared_blks_read + local_blks_hit + local_blks_read)::text AS blocks, regexp_replace(query, '\\s+', ' ', 'g') AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time + total_plan_time DESC LIMIT ${limit}`.execute(db);
  const perSync = (v: number) => (v / Math.max(1, units)).toFixed(3);
  // Blocks read per call (from cache or not): the work a statement does, whatever the machine's load.
  const perCall = (v: string, calls: string) => String(Math.round(Number(v) / Math.max(1, Number(calls)))).padStart(5);
  return rows.map((r) => `${perSync(Number(r.calls)).padStart(7)} calls ${perSync(r.ms + r.plan_ms).padStart(7)} ms (plan ${perSync(r.plan_ms)}) ${perCall(r.blocks, r.calls)} blocks/call  ${r.query.slice(0, 150)}`);
}

