// Data protection (docs/DATA-PROTECTION.md): per-school retention of what holds personal data
// beyond the figures (raw archives, packages, photos, temperatures), and the record of each
// pupil's erasure (the user row stays, scrubbed: users are never deleted).
import { type Kysely, sql } from 'kysely';

export const compatibility = 'additive';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE school_retention (
      school_id bigint PRIMARY KEY REFERENCES schools(id) ON DELETE CASCADE,
      -- Days kept; null: the default (docs/DATA-PROTECTION.md).
      archive_days integer CHECK (archive_days BETWEEN 1 AND 3650),
      package_days integer CHECK (package_days BETWEEN 1 AND 3650),
      photo_days integer CHECK (photo_days BETWEEN 1 AND 3650),
      temperature_days integer CHECK (temperature_days BETWEEN 1 AND 3650),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE erasures (
      user_id bigint PRIMARY KEY REFERENCES users(id),
      school_id bigint NOT NULL REFERENCES schools(id),
      erased_at timestamptz NOT NULL DEFAULT now(),
      -- What was scrubbed, table by table (counts only).
      scrubbed jsonb NOT NULL DEFAULT '{}'
    );
    -- The nightly retention job reads only what is still kept (db/repositories/retention.ts).
    CREATE INDEX sync_sessions_package_kept ON sync_sessions (acked_at) WHERE package IS NOT NULL;
    CREATE INDEX attendances_temperature_kept ON attendances (occurred_at) WHERE temperature IS NOT NULL;
    CREATE INDEX attendances_photo_kept ON attendances (occurred_at) WHERE photo IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS sync_sessions_package_kept, attendances_temperature_kept, attendances_photo_kept;
    DROP TABLE IF EXISTS erasures;
    DROP TABLE IF EXISTS school_retention;
  `.execute(db);
}
