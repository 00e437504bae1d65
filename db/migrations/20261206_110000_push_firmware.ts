// What real PUSH firmware sends (issue #27, docs/protocol/push.md §4–§5): a PUSH session says which table its
// archive holds (ATTLOG lines or Security PUSH 3.x rtlog events; NULL: ATTLOG, every session
// before this); push_uploads keeps the body of every other table a terminal uploads (a terminal
// deletes what it was answered OK for, so nothing is answered OK and dropped unseen), once per
// (terminal, table, bytes); push_terminals remembers the TimeZone offset it was last given, so
// that a DST change (or a new timezone) reaches it at the change; commands queued for that are
// of source 'clock'.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sync_sessions ADD COLUMN push_table text CHECK (push_table IN ('ATTLOG', 'rtlog'));

    CREATE TABLE push_uploads (
      id bigserial PRIMARY KEY,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      table_name text NOT NULL,
      body bytea NOT NULL,
      body_bytes integer NOT NULL,
      body_sha256 text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (device_id, table_name, body_sha256)
    );
    CREATE INDEX push_uploads_device ON push_uploads (device_id, id DESC);

    -- Minutes east of UTC, as last sent in TimeZone= (NULL: never sent).
    ALTER TABLE push_terminals ADD COLUMN timezone_offset_sent integer;

    ALTER TABLE push_commands DROP CONSTRAINT push_commands_source_check,
      ADD CONSTRAINT push_commands_source_check CHECK (source IN ('staff', 'flag', 'roster', 'clock'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM push_commands WHERE source = 'clock';
    ALTER TABLE push_commands DROP CONSTRAINT push_commands_source_check,
      ADD CONSTRAINT push_commands_source_check CHECK (source IN ('staff', 'flag', 'roster'));
    ALTER TABLE push_terminals DROP COLUMN IF EXISTS timezone_offset_sent;
    DROP TABLE IF EXISTS push_uploads;
    ALTER TABLE sync_sessions DROP COLUMN IF EXISTS push_table;
  `.execute(db);
}
