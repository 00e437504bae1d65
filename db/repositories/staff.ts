// Staff accounts.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';
import type { NewStaff, Staff, StaffUpdate } from '../schema/index.js';

export const STAFF_PUBLIC = ['id', 'email', 'role', 'school_id', 'name', 'deactivated_at', 'created_at', 'updated_at'] as const;
export type PublicStaff = Pick<Staff, (typeof STAFF_PUBLIC)[number]>;

export async function findStaffByEmail(db: DbOrTrx, email: string): Promise<Staff | undefined> {
  return db.selectFrom('staff').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

/** What authentication needs of a staff member, read on every call (a deleted account or a changed role counts at once). */
export async function findStaffAuth(db: DbOrTrx, id: number): Promise<Pick<Staff, 'id' | 'role' | 'school_id' | 'session_version' | 'deactivated_at'> | undefined> {
  return db.selectFrom('staff').select(['id', 'role', 'school_id', 'session_version', 'deactivated_at']).where('id', '=', id).executeTakeFirst();
}

/** The whole row (password hash included): for the auth routes only. */
export async function findStaffById(db: DbOrTrx, id: number): Promise<Staff | undefined> {
  return db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();
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

export async function listStaff(db: DbOrTrx, opts: { afterId: number | null; limit: number; schoolId?: number | null }): Promise<PublicStaff[]> {
  let q = db.selectFrom('staff').select(STAFF_PUBLIC).orderBy('id').limit(opts.limit);
  if (opts.schoolId) q = q.where('school_id', '=', opts.schoolId);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

export async function countBackoffice(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'backoffice')
    .where('deactivated_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Ends every session of the account: tokens carry the version they were signed with. */
export async function endSessions(db: DbOrTrx, id: number): Promise<void> {
  await db.updateTable('staff').set((eb) => ({ session_version: eb('session_version', '+', 1), updated_at: new Date() })).where('id', '=', id).execute();
}

/** Deactivates once (the first date stays) and ends the account's sessions. */
export async function deactivateStaff(db: DbOrTrx, id: number, at: Date): Promise<PublicStaff | undefined> {
  return db.updateTable('staff')
    .set((eb) => ({ deactivated_at: sql<Date>`coalesce(deactivated_at, ${at})`, session_version: eb('session_version', '+', 1), updated_at: at }))
    .where('id', '=', id).returning(STAFF_PUBLIC).executeTakeFirst();
}

export async function insertPasswordReset(db: DbOrTrx, r: { staffId: number; tokenHash: string; expiresAt: Date; issuedBy: number | null }): Promise<void> {
  // A new link replaces the ones not used yet: only the last one given out works.
  await db.updateTable('password_resets').set({ used_at: new Date() }).where('staff_id', '=', r.staffId).where('used_at', 'is', null).execute();
  await db.insertInto('password_resets').values({ staff_id: r.staffId, token_hash: r.tokenHash, expires_at: r.expiresAt, issued_by: r.issuedBy }).execute();
}

/**
 * Uses a reset link: marks it used and answers its account, in one statement, so that two
 * uses at once cannot both succeed. Undefined for an unknown, used or expired token.
 */
export async function usePasswordReset(db: DbOrTrx, tokenHash: string, now: Date): Promise<number | undefined> {
  const row = await db.updateTable('password_resets').set({ used_at: now })
    .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now)
    .returning('staff_id').executeTakeFirst();
  return row?.staff_id;
}

/** A reset link not used and not expired, for the page that asks for the new password. */
export async function peekPasswordReset(db: DbOrTrx, tokenHash: string, now: Date): Promise<{ email: string } | undefined> {
  return db.selectFrom('password_resets').innerJoin('staff', 'staff.id', 'password_resets.staff_id').select('staff.email')
    .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now).where('staff.deactivated_at', 'is', null)
    .executeTakeFirst();
}
