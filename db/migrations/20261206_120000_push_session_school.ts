// A punch belongs to the school its terminal served when it was sent (issue 33 §6): a PUSH
// session records that school at upload, and its import attributes the punches to it, even when
// staff moved the terminal to another school before the worker got to it (or a failed session
// is imported again later). Null for v4 sessions, whose uploads are imported at once.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_sessions ADD COLUMN school_id bigint REFERENCES schools(id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_sessions DROP COLUMN IF EXISTS school_id`.execute(db);
}
