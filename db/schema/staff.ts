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
  /** Set when the account was deactivated: it cannot sign in, its sessions end. */
  deactivated_at: Generated<Date | null>;
  /** Bumped to end every session of the account at once (staff tokens carry it: api/auth/tokens.ts). */
  session_version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type Staff = Selectable<StaffTable>;
export type NewStaff = Insertable<StaffTable>;
export type StaffUpdate = Updateable<StaffTable>;
