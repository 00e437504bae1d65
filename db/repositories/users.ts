// Users (pupils, employees): the roster devices receive.
import type { DbOrTrx } from '../database.js';
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

export async function findUser(db: DbOrTrx, id: number): Promise<PublicUser | undefined> {
  return db.selectFrom('users').select(USER_PUBLIC).where('id', '=', id).executeTakeFirst();
}

export async function updateUser(db: DbOrTrx, id: number, patch: UserUpdate): Promise<PublicUser | undefined> {
  return db.updateTable('users').set(patch).where('id', '=', id).returning(USER_PUBLIC).executeTakeFirst();
}

export async function listUsers(db: DbOrTrx, opts: { schoolId: number | null; afterId: number | null; limit: number }): Promise<PublicUser[]> {
  let q = db.selectFrom('users').select(USER_PUBLIC).orderBy('id').limit(opts.limit);
  if (opts.schoolId !== null) q = q.where('school_id', '=', opts.schoolId);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}
