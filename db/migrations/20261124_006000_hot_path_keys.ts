// Foreign keys on the two tables every import writes in bulk cost more than the rows
// themselves: a 50,000-row attendances INSERT took 1.9 s with its four keys and 0.8 s with
// none (PostgreSQL 18, this machine); each key is one trigger call per row. This drops the
// keys whose guarantee another one already gives, and keeps those that guard a real write:
//  - attendances.school_id → schools: the row's user (users FK, kept) belongs to that school:
//    both writers check it (the import's unknown_user, the REST API's scope), and a school is
//    only deleted once it holds no users.
//  - attendances.session_id → sync_sessions: only an import sets it, to its own session,
//    whose row that same transaction holds locked; sessions are never deleted.
//  - user_days.school_id → schools: the user's school (user_days FK on users, kept, ON DELETE CASCADE).
// Kept: attendances.user_id, attendances.device_id, user_days.user_id.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE attendances DROP CONSTRAINT attendances_school_id_fkey, DROP CONSTRAINT attendances_session_id_fkey;
    ALTER TABLE user_days DROP CONSTRAINT user_days_school_id_fkey;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE attendances ADD CONSTRAINT attendances_school_id_fkey FOREIGN KEY (school_id) REFERENCES schools(id) ON DELETE RESTRICT,
      ADD CONSTRAINT attendances_session_id_fkey FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL;
    ALTER TABLE user_days ADD CONSTRAINT user_days_school_id_fkey FOREIGN KEY (school_id) REFERENCES schools(id) ON DELETE CASCADE;
  `.execute(db);
}
