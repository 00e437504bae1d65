// Rejections that say what is wrong (issue 30, docs/protocol/v4.md §4.5): each refused row keeps
// the detail its package carried (`expected 6 fields, got 5`, `type: "chekin" is not checkin or
// checkout`), shown by the REST API and the dashboard. Rows stored before have none (null).
import { type Kysely, sql } from 'kysely';

// Only adds a nullable column: the previous version runs on it (its inserts leave it null).
export const compatibility = 'additive';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rejections ADD COLUMN detail text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rejections DROP COLUMN detail`.execute(db);
}
