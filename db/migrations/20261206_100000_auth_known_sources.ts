// Where each credential has signed in from before. The sign-in throttle (api/routes/auth.ts)
// spares a known credential and address pair from the account-wide and address-wide blocks: a
// guesser elsewhere cannot lock the owner out, nor one guesser behind a school's NAT address
// the terminals that have always signed in from it. Only a successful sign-in adds a row.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE auth_known_sources (
      credential text NOT NULL,
      address text NOT NULL,
      last_success_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (credential, address)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS auth_known_sources`.execute(db);
}
