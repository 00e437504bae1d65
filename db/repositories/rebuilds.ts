// Figure rebuilds and their progress.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { FigureRebuild } from '../schema/index.js';

/** A rebuild with the email of who started it (audit trails name people: issue 17). */
export type RebuildRow = FigureRebuild & { requested_by_email: string | null };

export async function createRebuild(trx: Trx, r: { school_id: number; from_date: string; to_date: string; chunks_total: number; requested_by: number | null }): Promise<RebuildRow> {
  const { id } = await trx.insertInto('figure_rebuilds').values(r).returning('id').executeTakeFirstOrThrow();
  return (await findRebuild(trx, r.school_id, id))!;
}

export async function findRebuild(db: DbOrTrx, schoolId: number, id: number): Promise<RebuildRow | undefined> {
  return db.selectFrom('figure_rebuilds as r').leftJoin('staff as s', 's.id', 'r.requested_by')
    .selectAll('r').select('s.email as requested_by_email').where('r.school_id', '=', schoolId).where('r.id', '=', id).executeTakeFirst();
}

/** Counts a finished chunk once, however often its job ran. */
export async function chunkDone(trx: Trx, schoolId: number, rebuildId: number, chunkStart: string, daysChanged: number): Promise<void> {
  await sql`
    UPDATE figure_rebuilds SET
      done_chunks = array_append(done_chunks, ${chunkStart}::date),
      chunks_done = chunks_done + 1,
      days_changed = days_changed + ${daysChanged},
      finished_at = CASE WHEN chunks_done + 1 + chunks_failed >= chunks_total THEN now() ELSE finished_at END
    WHERE school_id = ${schoolId} AND id = ${rebuildId} AND NOT (${chunkStart}::date = ANY(done_chunks))
  `.execute(trx);
}

export async function chunkFailed(db: DbOrTrx, schoolId: number, rebuildId: number): Promise<void> {
  await sql`
    UPDATE figure_rebuilds SET chunks_failed = chunks_failed + 1,
      finished_at = CASE WHEN chunks_done + chunks_failed + 1 >= chunks_total THEN now() ELSE finished_at END
    WHERE school_id = ${schoolId} AND id = ${rebuildId}
  `.execute(db);
}
