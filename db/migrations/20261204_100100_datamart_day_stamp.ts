// The data mart finds changed user-days from the row's own change stamp instead of the change
// log: user_days.rev already holds the id of the transaction that last changed the row
// (set on insert and by every recompute that changes it, db/repositories/user-days.ts), so
// an index on it lists the changed days, and the statement triggers that wrote one log row per
// changed day inside every import (a text key, an upsert, its index) go.
// Exact without them: a scheduled run collects the days with rev in [xid_from, xid_to), where
// xid_to is pg_snapshot_xmin of a snapshot taken when the window is fixed: every transaction
// below it has finished, so a day changed by a transaction still running then (even one that
// began long before) has rev >= xid_to and falls in the next window; none is skipped. Runs
// chain xid_to → xid_from like their time windows, fixed in one transaction and kept only
// once collected, so a crash replays the same window, and the export table sends a record
// only when what it says changed: nothing goes twice.
// Deleted days (rare: every attendance of a day removed) keep a statement trigger on DELETE:
// a gone row carries no stamp.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER user_days_datamart_insert ON user_days;
    DROP TRIGGER user_days_datamart_update ON user_days;
    CREATE INDEX user_days_rev ON user_days (rev);
    ALTER TABLE datamart_runs ADD COLUMN xid_from bigint, ADD COLUMN xid_to bigint;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE datamart_runs DROP COLUMN xid_from, DROP COLUMN xid_to;
    DROP INDEX user_days_rev;
    CREATE TRIGGER user_days_datamart_insert AFTER INSERT ON user_days REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('attendance_days');
    CREATE TRIGGER user_days_datamart_update AFTER UPDATE ON user_days REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('attendance_days');
  `.execute(db);
}
