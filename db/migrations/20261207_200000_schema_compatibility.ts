// Which versions of the code may run on this schema (docs/OPERATIONS.md "Upgrading"): the code
// must know `oldest_migration`, the newest applied migration that older code cannot run with.
// A migration that only adds (tables, nullable columns, indexes) exports
// `compatibility = 'additive'`; any other is taken as breaking. db/schema-version.ts writes the
// row after each `npm run migrate` and reads it at every start.
import { type Kysely, sql } from 'kysely';

export const compatibility = 'additive';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE schema_compatibility (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      oldest_migration text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS schema_compatibility`.execute(db);
}
