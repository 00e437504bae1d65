import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  school_id: number;
  name: string;
  badge: string;
  /** 'YYYY-MM-DD' */
  enrolled_on: ColumnType<string, string | undefined, string>;
  deleted_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Id of the last transaction that wrote the row: the roster version (set by a trigger). */
  roster_xid: Generated<number>;
}
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
