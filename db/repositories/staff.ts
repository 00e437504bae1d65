// Staff accounts.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';
import type { NewStaff, Staff, StaffUpdate } from '../schema/index.js';

export const STAFF_PUBLIC = ['id', 'email', 'role', 'school_id', 'name', 'created_at', 'updated_at'] as const;
export type PublicStaff = Pick<Staff, (typeof STAFF_PUBLIC)[number]>;

export async function findStaffByEmail(db: DbOrTrx, email: string): Promise<Staff | undefined> {
  return db.selectFrom('staff').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

/** What authentication needs of a staff member, read on every call (a deleted account or a changed role counts at once). */
export async function findStaffAuth(db: DbOrTrx, id: number): Promise<Pick<Staff, 'id' | 'role' | 'school_id'> | undefined> {
  return db.selectFrom('staff').select(['id', 'role', 'school_id']).where('id', '=', id).executeTakeFirst();
}

export async function findStaff(db: DbOrTrx, id: number): Promise<PublicStaff | undefined> {
  return db.selectFrom('staff').select(STAFF_PUBLIC).where('id', '=', id).executeTakeFirst();
}

export async function insertStaff(db: DbOrTrx, staff: NewStaff): Promise<PublicStaff> {
  return db.insertInto('staff').values({ ...staff, email: staff.email.toLowerCase() }).returning(STAFF_PUBLIC).executeTakeFirstOrThrow();
}

export async function updateStaff(db: DbOrTrx, id: number, patch: StaffUpdate): Promise<PublicStaff | undefined> {
  return db.updateTable('staff').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returning(STAFF_PUBLIC).executeTakeFirst();
}

export async function deleteStaff(db: DbOrTrx, id: number): Promise<boolean> {
  const result = await db.deleteFrom('staff').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listStaff(db: DbOrTrx, opts: { afterId: number | null; limit: number }): Promise<PublicStaff[]> {
  let q = db.selectFrom('staff').select(STAFF_PUBLIC).orderBy('id').limit(opts.limit);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

export async function countBackoffice(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'backoffice').executeTakeFirstOrThrow();
  return Number(row.n);
}
