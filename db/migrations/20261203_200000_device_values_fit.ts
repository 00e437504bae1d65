// Every value a device reports must fit its column, or one device poisons its own batches: a
// device clock of 2100-01-01 gave a clock skew of ~2.3e9 s, "out of range for type integer",
// the import failed on every retry and the device resent forever. The skew and the pending
// record count come from device.xml, where any parseable value (clock years 0001–9999, up to
// 15 digits) is accepted and stored as said, so they are bigint like roster_version already is.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE devices ALTER COLUMN clock_skew_seconds TYPE bigint, ALTER COLUMN pending_records TYPE bigint;
    ALTER TABLE sync_sessions ALTER COLUMN clock_skew_seconds TYPE bigint;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Values beyond integer are clamped on the way back rather than blocking the rollback.
  await sql`
    ALTER TABLE devices
      ALTER COLUMN clock_skew_seconds TYPE integer USING greatest(-2147483648, least(2147483647, clock_skew_seconds)),
      ALTER COLUMN pending_records TYPE integer USING least(2147483647, pending_records);
    ALTER TABLE sync_sessions
      ALTER COLUMN clock_skew_seconds TYPE integer USING greatest(-2147483648, least(2147483647, clock_skew_seconds));
  `.execute(db);
}
