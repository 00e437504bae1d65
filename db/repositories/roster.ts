// The roster a device receives. Versions are transaction ids: the version handed out is the
// oldest transaction still running when the package is built, so a user row committed late
// by an older transaction is never skipped (a serial or timestamp would be, STYLE.md).
import { sql } from 'kysely';
import type { Trx } from '../database.js';

export interface RosterUser {
  id: number;
  name: string;
  badge: string;
  active: boolean;
}

/** Every transaction with an id below this has finished, and its rows are visible. */
export async function rosterHorizon(trx: Trx): Promise<number> {
  const row = await sql<{ v: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS v`.execute(trx);
  return Number(row.rows[0].v);
}

/** All users (full) or those written since `sinceVersion` (delta), deactivated ones included. */
export async function rosterUsers(trx: Trx, schoolId: number, sinceVersion: number | null): Promise<RosterUser[]> {
  let q = trx.selectFrom('users').select(['id', 'name', 'badge', sql<boolean>`deleted_at IS NULL`.as('active')]).where('school_id', '=', schoolId);
  if (sinceVersion !== null) q = q.where('roster_xid', '>=', sinceVersion);
  return q.orderBy('id').execute();
}
