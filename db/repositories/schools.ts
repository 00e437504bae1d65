// Schools.
import type { DbOrTrx } from '../database.js';
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
