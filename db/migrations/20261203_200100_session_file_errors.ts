// A session whose package reports a file that could not be read (file_corrupt, xml_invalid,
// csv_invalid) used to say `imported`, as if the whole batch had been: it is now `partial`,
// and the file errors are kept with the session (they were only inside the package zip).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sync_sessions DROP CONSTRAINT sync_sessions_outcome_check,
      ADD CONSTRAINT sync_sessions_outcome_check CHECK (outcome IN ('imported', 'partial', 'failed', 'reset')),
      ADD COLUMN file_errors jsonb;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE sync_sessions SET outcome = 'imported' WHERE outcome = 'partial';
    ALTER TABLE sync_sessions DROP COLUMN file_errors, DROP CONSTRAINT sync_sessions_outcome_check,
      ADD CONSTRAINT sync_sessions_outcome_check CHECK (outcome IN ('imported', 'failed', 'reset'));
  `.execute(db);
}
