// Held punches (docs/protocol/push.md §4, issue #27): a PUSH punch refused as `unknown_user` (no
// user with that badge in the terminal's school) is kept here, not only as a row code, so staff
// can map its PIN to a user and have it imported then, once. (terminal, PIN, local time) is the
// punch's natural key, as for attendances: a resend is not held twice.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE held_punches (
      id bigserial PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      -- The session it came in (no key: sessions are pruned, attendances keep theirs the same way).
      session_id uuid,
      pin text NOT NULL,
      occurred_at timestamptz NOT NULL,
      local_time timestamp NOT NULL,
      -- As the terminal sent it; null: to be inferred by pairing once imported.
      type text CHECK (type IN ('checkin', 'checkout')),
      punch_status smallint,
      verify smallint,
      temperature numeric(4,1),
      held_at timestamptz NOT NULL DEFAULT now(),
      imported_at timestamptz,
      -- The attendance it became (or the one that held it already); no key: attendances are history.
      attendance_id bigint,
      UNIQUE (device_id, pin, local_time)
    );
    -- Staff's list and the import of a PIN: what is still held, per school and PIN.
    CREATE INDEX held_punches_waiting ON held_punches (school_id, pin) WHERE imported_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS held_punches`.execute(db);
}
