// PUSH (iclock) terminals (docs/protocol/push.md): a device gets a protocol and, for PUSH, its serial
// number; push_terminals holds what a terminal says about itself and the server's cursors, for
// known terminals and for pending ones that called before being registered (device_id NULL).
// Punches keep the terminal's natural key (device, PIN, local wall-clock time), unique, so a
// batch sent again is counted as duplicates and never stored twice. Commands queue in
// push_commands (ids increase per server, as C:<id>:<cmd> needs).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE devices
      ADD COLUMN protocol text NOT NULL DEFAULT 'v4' CHECK (protocol IN ('v4', 'push')),
      ADD COLUMN serial_number text UNIQUE CHECK (serial_number ~ '^[A-Za-z0-9]{1,64}$'),
      -- The terminal's own timezone when it differs from its school's (IANA).
      ADD COLUMN timezone text,
      -- Source networks allowed to speak for this terminal (CIDR); NULL: any.
      ADD COLUMN allowed_networks text[],
      ADD CONSTRAINT devices_push_has_serial CHECK (protocol <> 'push' OR serial_number IS NOT NULL);

    CREATE TABLE push_terminals (
      serial_number text PRIMARY KEY CHECK (serial_number ~ '^[A-Za-z0-9]{1,64}$'),
      device_id uuid UNIQUE REFERENCES devices(id) ON DELETE CASCADE,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz,
      address text,
      model text,
      firmware text,
      push_version text,
      options jsonb,
      attlog_stamp bigint NOT NULL DEFAULT 0,
      operlog_stamp bigint NOT NULL DEFAULT 0,
      attphoto_stamp bigint NOT NULL DEFAULT 0,
      delay_seconds integer NOT NULL DEFAULT 10 CHECK (delay_seconds BETWEEN 1 AND 3600),
      -- The roster version last queued to the terminal as DATA UPDATE/DELETE USERINFO commands.
      roster_version bigint NOT NULL DEFAULT 0
    );
    CREATE INDEX push_terminals_pending ON push_terminals (last_seen_at DESC) WHERE device_id IS NULL;

    ALTER TABLE attendances
      ADD COLUMN pin text,
      ADD COLUMN local_time timestamp,
      ADD COLUMN verify smallint,
      ADD COLUMN punch_status smallint,
      ADD COLUMN type_inferred boolean NOT NULL DEFAULT false,
      -- A device row has its key: a v4 record_id, or a PUSH terminal's PIN and local time; REST rows neither.
      DROP CONSTRAINT attendances_check,
      ADD CONSTRAINT attendances_device_key CHECK (CASE WHEN device_id IS NULL THEN record_id IS NULL AND pin IS NULL
        ELSE (record_id IS NULL) <> (pin IS NULL AND local_time IS NULL) AND (pin IS NULL) = (local_time IS NULL) END);
    CREATE UNIQUE INDEX attendances_push_key ON attendances (device_id, pin, local_time) WHERE pin IS NOT NULL;

    CREATE TABLE push_commands (
      id bigserial PRIMARY KEY,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      command text NOT NULL,
      source text NOT NULL CHECK (source IN ('staff', 'flag', 'roster')),
      flag_id bigint REFERENCES device_flags(id) ON DELETE SET NULL,
      created_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'succeeded', 'failed', 'cancelled')),
      sends integer NOT NULL DEFAULT 0,
      last_sent_at timestamptz,
      finished_at timestamptz,
      return_code integer,
      result_cmd text,
      result_content text,
      failure text
    );
    CREATE INDEX push_commands_open ON push_commands (device_id, id) WHERE status IN ('queued', 'sent');
    CREATE INDEX push_commands_history ON push_commands (device_id, id DESC);

    -- The users the terminal reports (OPERLOG USER lines, DATA QUERY USERINFO), compared with the roster.
    CREATE TABLE push_terminal_users (
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      pin text NOT NULL,
      name text,
      privilege text,
      card text,
      fingerprints integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_id, pin)
    );

    CREATE TABLE push_operlog (
      id bigserial PRIMARY KEY,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      line text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX push_operlog_device ON push_operlog (device_id, id DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE push_operlog, push_terminal_users, push_commands, push_terminals;
    DROP INDEX attendances_push_key;
    DELETE FROM attendances WHERE pin IS NOT NULL;
    ALTER TABLE attendances DROP CONSTRAINT attendances_device_key, ADD CONSTRAINT attendances_check CHECK ((device_id IS NULL) = (record_id IS NULL));
    ALTER TABLE attendances DROP COLUMN pin, DROP COLUMN local_time, DROP COLUMN verify, DROP COLUMN punch_status, DROP COLUMN type_inferred;
    ALTER TABLE devices DROP CONSTRAINT devices_push_has_serial, DROP COLUMN protocol, DROP COLUMN serial_number, DROP COLUMN timezone, DROP COLUMN allowed_networks;
  `.execute(db);
}
