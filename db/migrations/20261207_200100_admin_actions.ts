// What the operator's break-glass CLI (`npm run admin`, bin/admin.ts) did: one row per command
// run, in the command's own transaction, with its arguments (never a secret) and its result.
import { type Kysely, sql } from 'kysely';

export const compatibility = 'additive';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE admin_actions (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      command text NOT NULL,
      -- The operator: --by, else the system user who ran the CLI.
      operator text NOT NULL,
      -- The account named with --as (flags set, passwords changed on its behalf); null if none.
      staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
      args jsonb NOT NULL DEFAULT '{}',
      result jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX admin_actions_at ON admin_actions (at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_actions`.execute(db);
}
