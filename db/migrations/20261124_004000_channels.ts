// The other channels (docs/protocol/v4.md §7): probe readings (sondes), messages both ways and who
// received them (messagerie), photos stored once by SHA-256 and each device's photo index
// (photos), and what a package offered that counts only once acknowledged.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE readings (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE RESTRICT,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE RESTRICT,
      record_id bigint NOT NULL,
      -- Null when the person was not identified.
      user_id bigint REFERENCES users(id) ON DELETE RESTRICT,
      measured_at timestamptz NOT NULL,
      temperature numeric(4,1) NOT NULL,
      sensor text,
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX readings_device_record ON readings (device_id, record_id);
    CREATE INDEX readings_school_time ON readings (school_id, measured_at);

    ALTER TABLE fever_events ADD COLUMN reading_id bigint REFERENCES readings(id) ON DELETE CASCADE;

    -- Office → devices: to one device, or (device_id null) to every device of the school.
    CREATE TABLE messages (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      device_id uuid REFERENCES devices(id) ON DELETE CASCADE,
      body text NOT NULL,
      priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'high')),
      expires_at timestamptz,
      created_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX messages_school ON messages (school_id, id DESC);
    CREATE INDEX messages_device ON messages (device_id, id) WHERE device_id IS NOT NULL;

    -- Delivered = the package carrying it was acknowledged; once per (message, device).
    CREATE TABLE message_deliveries (
      message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      delivered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (message_id, device_id)
    );
    CREATE INDEX message_deliveries_device ON message_deliveries (device_id);

    -- Fever alerts sent down messagerie: once per (event, device).
    CREATE TABLE alert_deliveries (
      fever_event_id bigint NOT NULL REFERENCES fever_events(id) ON DELETE CASCADE,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      delivered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (fever_event_id, device_id)
    );
    CREATE INDEX alert_deliveries_device ON alert_deliveries (device_id);
    CREATE INDEX fever_events_school_created ON fever_events (school_id, created_at);

    -- Devices → office (messages.csv).
    CREATE TABLE device_messages (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      record_id bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('info', 'incident')),
      body text NOT NULL,
      created_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL
    );
    CREATE UNIQUE INDEX device_messages_device_record ON device_messages (device_id, record_id);
    CREATE INDEX device_messages_school ON device_messages (school_id, id DESC);

    -- Photo bytes, once per content. In the database like archives and packages: api and worker
    -- share no disk (DESIGN.md §1), and 2 MiB at most each keeps bytea comfortable.
    CREATE TABLE photos (
      sha256 text PRIMARY KEY,
      content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
      width integer NOT NULL,
      height integer NOT NULL,
      bytes integer NOT NULL,
      data bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    -- Each device's photo index: the name an attendance's photo column refers to → its content.
    CREATE TABLE device_photos (
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      name text NOT NULL,
      sha256 text NOT NULL REFERENCES photos(sha256) ON DELETE RESTRICT,
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_id, name)
    );
    CREATE INDEX attendances_device_photo ON attendances (device_id, photo) WHERE photo IS NOT NULL;

    ALTER TABLE sync_sessions ADD COLUMN offered jsonb;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sync_sessions DROP COLUMN IF EXISTS offered;
    DROP INDEX IF EXISTS attendances_device_photo;
    DROP INDEX IF EXISTS fever_events_school_created;
    DROP TABLE IF EXISTS device_photos, photos, device_messages, alert_deliveries, message_deliveries, messages CASCADE;
    ALTER TABLE fever_events DROP COLUMN IF EXISTS reading_id;
    DROP TABLE IF EXISTS readings CASCADE;
  `.execute(db);
}
