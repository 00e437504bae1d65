// Users (pupils, employees): the roster devices receive.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { NewUser, User, UserUpdate } from '../schema/index.js';

export const USER_PUBLIC = ['id', 'school_id', 'name', 'badge', 'enrolled_on', 'deleted_at', 'created_at', 'updated_at'] as const;
export type PublicUser = Pick<User, (typeof USER_PUBLIC)[number]>;

export async function insertUser(db: DbOrTrx, user: NewUser): Promise<PublicUser> {
  return db.insertInto('users').values(user).returning(USER_PUBLIC).executeTakeFirstOrThrow();
}

export async function insertUsers(db: DbOrTrx, users: NewUser[]): Promise<PublicUser[]> {
  if (users.length === 0) return [];
  return db.insertInto('users').values(users).returning(USER_PUBLIC).execute();
}

/** Inserts the users whose badge is free in their school; a badge taken meanwhile is left out (the answer lacks it). */
export async function insertUsersIfBadgeFree(trx: Trx, users: NewUser[]): Promise<PublicUser[]> {
  if (users.length === 0) return [];
  return trx.insertInto('users').values(users).onConflict((oc) => oc.columns(['school_id', 'badge']).doNothing()).returning(USER_PUBLIC).execute();
}

export async function findUser(db: DbOrTrx, schoolId: number, id: number): Promise<PublicUser | undefined> {
  return db.selectFrom('users').select(USER_PUBLIC).where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** `updated_at` and the roster version are set by the `users_touch` trigger. */
export async function updateUser(db: DbOrTrx, schoolId: number, id: number, patch: UserUpdate): Promise<PublicUser | undefined> {
  return db.updateTable('users').set(patch).where('school_id', '=', schoolId).where('id', '=', id).returning(USER_PUBLIC).executeTakeFirst();
}

/** Sets `deleted_at` once; a user already deactivated keeps its first date. */
export async function deactivateUser(db: DbOrTrx, schoolId: number, id: number, at: Date): Promise<PublicUser | undefined> {
  return db.updateTable('users').set({ deleted_at: sql<Date>`coalesce(deleted_at, ${at})` }).where('school_id', '=', schoolId).where('id', '=', id)
    .returning(USER_PUBLIC).executeTakeFirst();
}

/** `%`, `_` and `\` taken literally inside a LIKE pattern. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface UserFilter {
  schoolId: number | null;
  /** Name or badge contains this, ignoring case and accents. */
  q?: string;
  includeDeleted?: boolean;
  afterId: number | null;
  limit: number;
}

export async function listUsers(db: DbOrTrx, opts: UserFilter): Promise<PublicUser[]> {
  let q = db.selectFrom('users').select(USER_PUBLIC).orderBy('id').limit(opts.limit);
  if (opts.schoolId !== null) q = q.where('school_id', '=', opts.schoolId);
  if (!opts.includeDeleted) q = q.where('deleted_at', 'is', null);
  if (opts.q) {
    // search_fold (migration 20261207_400000): lower case, accents off, on both sides, so
    // "chloe" finds Chloé and "FERNANDEZ" Fernández; the trigram index on it serves the name.
    const pattern = likeContains(opts.q);
    q = q.where((eb) => eb.or([
      eb(sql<string>`search_fold(name)`, 'like', sql<string>`search_fold(${pattern})`),
      eb('badge', 'ilike', pattern),
    ]));
  }
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

/**
 * The user, its row locked until the transaction ends (FOR NO KEY UPDATE: foreign key checks
 * of attendance inserts still pass). Writers of one user's attendances take it first so each
 * recomputes the user's figures after the previous one committed, never from a stale view.
 */
export async function lockUser(trx: Trx, schoolId: number, id: number): Promise<PublicUser | undefined> {
  return trx.selectFrom('users').select(USER_PUBLIC).where('school_id', '=', schoolId).where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
}

export async function reactivateUser(db: DbOrTrx, schoolId: number, id: number): Promise<PublicUser | undefined> {
  return db.updateTable('users').set({ deleted_at: null }).where('school_id', '=', schoolId).where('id', '=', id).returning(USER_PUBLIC).executeTakeFirst();
}

/** The school's users with these badges, deactivated ones included (a roster import matches by badge). */
export async function usersByBadge(db: DbOrTrx, schoolId: number, badges: string[]): Promise<Array<Pick<User, 'id' | 'name' | 'badge' | 'deleted_at'>>> {
  if (badges.length === 0) return [];
  return db.selectFrom('users').select(['id', 'name', 'badge', 'deleted_at']).where('school_id', '=', schoolId).where('badge', 'in', badges).execute();
}
