// Open user-days (a check-in without its check-out yet) are few; the hourly close job finds
// the past ones through this partial index instead of scanning every user-day.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX user_days_open ON user_days (date) WHERE open_since IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX user_days_open`.execute(db);
}
