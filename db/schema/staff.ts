import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

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

/** A write staff made (issue #29): who, when, which school, what. */
export interface StaffAuditTable {
  id: Generated<number>;
  at: Generated<Date>;
  staff_id: number | null;
  staff_email: string;
  school_id: number | null;
  action: string;
  subject: string;
  subject_id: number | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}
export type StaffAuditRow = Selectable<StaffAuditTable>;
