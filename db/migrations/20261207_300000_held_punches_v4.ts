// Held punches for v4 rows and suspect clocks (docs/protocol/push.md §4 "held punches",
// docs/protocol/v4.md §4.5, issue #27): a v4 attendances.csv row refused as `unknown_user`, or a
// row of either kind refused as `in_future`, is kept beside the PUSH ones. A v4 row is keyed by
// (device, record id) as attendances are, and has no terminal-local time; `pin` holds the
// `user_id` the device sent. Staff's import or discard is recorded on the row (who, when).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE held_punches
      ADD COLUMN source text NOT NULL DEFAULT 'push' CHECK (source IN ('push', 'v4')),
      ADD COLUMN reason text NOT NULL DEFAULT 'unknown_user' CHECK (reason IN ('unknown_user', 'in_future')),
      ADD COLUMN record_id bigint,
      ADD COLUMN photo text,
      ADD COLUMN imported_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      ADD COLUMN discarded_at timestamptz,
      ADD COLUMN discarded_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      ALTER COLUMN local_time DROP NOT NULL,
      ADD CHECK ((source = 'push') = (local_time IS NOT NULL) AND (source = 'v4') = (record_id IS NOT NULL));
    -- A v4 row sent again (before or after its import) is held once, as attendances hold it once.
    CREATE UNIQUE INDEX held_punches_record ON held_punches (device_id, record_id) WHERE record_id IS NOT NULL;
    DROP INDEX held_punches_waiting;
    CREATE INDEX held_punches_waiting ON held_punches (school_id, pin) WHERE imported_at IS NULL AND discarded_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM held_punches WHERE source = 'v4';
    DROP INDEX held_punches_record;
    DROP INDEX held_punches_waiting;
    CREATE INDEX held_punches_waiting ON held_punches (school_id, pin) WHERE imported_at IS NULL;
    ALTER TABLE held_punches ALTER COLUMN local_time SET NOT NULL,
      DROP COLUMN source, DROP COLUMN reason, DROP COLUMN record_id, DROP COLUMN photo,
      DROP COLUMN imported_by, DROP COLUMN discarded_at, DROP COLUMN discarded_by;
  `.execute(db);
}
