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

/**
 * `rosterHorizon` and `rosterUsers` in one statement (the synchro package asks both every
 * sync): the version is the horizon of the very snapshot the users are read with.
 */
export async function rosterSince(trx: Trx, schoolId: number, sinceVersion: number | null): Promise<{ version: number; users: RosterUser[] }> {
  const since = sinceVersion === null ? sql`` : sql`AND u.roster_xid >= ${sinceVersion}`;
  const result = await sql<{ v: string; id: number | null; name: string; badge: string; active: boolean }>`
    SELECT h.v::text AS v, u.id, u.name, u.badge, u.deleted_at IS NULL AS active
      FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS v) AS h
      LEFT JOIN users AS u ON u.school_id = ${schoolId} ${since}
     ORDER BY u.id`.execute(trx);
  const version = Number(result.rows[0].v);
  const users = result.rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, name: r.name, badge: r.badge, active: r.active }));
  return { version, users };
}
