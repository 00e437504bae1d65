// Schools.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { NewSchool, School, SchoolUpdate } from '../schema/index.js';

export async function insertSchool(db: DbOrTrx, school: NewSchool): Promise<School> {
  return db.insertInto('schools').values(school).returningAll().executeTakeFirstOrThrow();
}

export async function findSchool(db: DbOrTrx, id: number): Promise<School | undefined> {
  return db.selectFrom('schools').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateSchool(db: DbOrTrx, id: number, patch: SchoolUpdate): Promise<School | undefined> {
  return db.updateTable('schools').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function listSchools(db: DbOrTrx, opts: { onlyId: number | null; afterId: number | null; limit: number }): Promise<School[]> {
  let q = db.selectFrom('schools').selectAll().orderBy('id').limit(opts.limit);
  if (opts.onlyId !== null) q = q.where('id', '=', opts.onlyId);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

export type SchoolDeletion = 'deleted' | 'not_found' | 'has_users' | 'has_devices';

/**
 * Deletes a school that holds no users (deactivated ones included: their history stays)
 * and no devices. The row is locked first, so a user created concurrently either commits
 * before (and is seen here) or fails its foreign key check after. Staff accounts of the
 * school go with it (ON DELETE CASCADE).
 */
export async function deleteSchool(trx: Trx, id: number): Promise<SchoolDeletion> {
  const school = await trx.selectFrom('schools').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  if (!school) return 'not_found';
  const holds = await trx.selectNoFrom((eb) => [
    eb.exists(eb.selectFrom('users').select(sql`1`.as('one')).where('school_id', '=', id)).as('users'),
    eb.exists(eb.selectFrom('devices').select(sql`1`.as('one')).where('school_id', '=', id)).as('devices'),
  ]).executeTakeFirstOrThrow();
  if (holds.users) return 'has_users';
  if (holds.devices) return 'has_devices';
  await trx.deleteFrom('schools').where('id', '=', id).execute();
  return 'deleted';
}
