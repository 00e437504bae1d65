// Running a school from the dashboard (issue #29): staff accounts are deactivated, never deleted
// by the dashboard, and a session version ends every session of an account at once (deactivated,
// password reset); one-time password reset links (only a hash of the token is kept). Writes are
// audited in staff_audit (20261207_400000).
import { type Kysely, sql } from 'kysely';

// Only adds: the previous version runs on it (it neither ends sessions by version nor refuses a
// deactivated account, until it is replaced).
export const compatibility = 'additive';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE staff
      ADD COLUMN deactivated_at timestamptz,
      ADD COLUMN session_version integer NOT NULL DEFAULT 0;

    CREATE TABLE password_resets (
      id bigserial PRIMARY KEY,
      staff_id bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      -- Who issued it; null: asked for by its owner on the sign-in page.
      issued_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX password_resets_staff ON password_resets (staff_id);

  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS password_resets;
    ALTER TABLE staff DROP COLUMN IF EXISTS deactivated_at, DROP COLUMN IF EXISTS session_version;
  `.execute(db);
}
