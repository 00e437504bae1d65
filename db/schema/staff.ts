import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type StaffRole = 'backoffice' | 'school_admin';

export interface StaffTable {
  id: Generated<number>;
  email: string;
  /** scrypt, see api/auth/password.ts */
  password_hash: string;
  role: StaffRole;
  /** Set for school admins only. */
  school_id: number | null;
  name: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type Staff = Selectable<StaffTable>;
export type NewStaff = Insertable<StaffTable>;
export type StaffUpdate = Updateable<StaffTable>;
