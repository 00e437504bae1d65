// Core schema: schools, users, staff, devices, the sync channel state and sessions,
// attendances and what the import writes beside them, and the precomputed user-days.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE schools (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      timezone text NOT NULL DEFAULT 'UTC',
      school_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}',
      day_end time NOT NULL DEFAULT '17:00',
      fever_threshold numeric(4,1) NOT NULL DEFAULT 37.5,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE users (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE RESTRICT,
      name text NOT NULL,
      badge text NOT NULL,
      enrolled_on date NOT NULL DEFAULT current_date,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      -- The writing transaction's id: a roster version that commit order cannot skip (see roster repository).
      roster_xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
      UNIQUE (school_id, badge)
    );
    CREATE INDEX users_school_roster ON users (school_id, roster_xid);

    CREATE FUNCTION touch_user() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.updated_at := now();
      NEW.roster_xid := pg_current_xact_id()::text::bigint;
      RETURN NEW;
    END $$;
    CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_user();

    CREATE TABLE staff (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('backoffice', 'school_admin')),
      school_id bigint REFERENCES schools(id) ON DELETE CASCADE,
      name text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((role = 'school_admin') = (school_id IS NOT NULL))
    );
    CREATE UNIQUE INDEX staff_email ON staff (lower(email));

    CREATE TABLE devices (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE RESTRICT,
      name text NOT NULL,
      kind text NOT NULL DEFAULT 'terminal' CHECK (kind IN ('terminal', 'mobile')),
      secret_hash text NOT NULL,
      disabled_at timestamptz,
      sync_interval_seconds integer NOT NULL DEFAULT 300,
      last_seen_at timestamptz,
      last_synced_at timestamptz,
      -- The device's own clock at its last successful sync: how far its records are known complete.
      last_device_clock timestamptz,
      clock_skew_seconds integer,
      firmware text,
      reported_timezone text,
      pending_records integer,
      roster_version bigint,
      reported_settings jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX devices_school ON devices (school_id);

    CREATE TABLE sync_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      channel text NOT NULL,
      archive bytea,
      archive_sha256 text NOT NULL,
      archive_bytes integer NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      acked_at timestamptz,
      outcome text CHECK (outcome IN ('imported', 'failed', 'reset')),
      stats jsonb,
      device_clock timestamptz,
      clock_skew_seconds integer,
      package bytea,
      package_sha256 text,
      -- The pg-boss job importing it: the sweep re-sends a session whose job is gone.
      job_id uuid,
      attempts integer NOT NULL DEFAULT 0,
      failure text
    );
    CREATE INDEX sync_sessions_device ON sync_sessions (device_id, channel, received_at DESC);
    CREATE INDEX sync_sessions_retry ON sync_sessions (device_id, channel, archive_sha256);
    CREATE INDEX sync_sessions_unprocessed ON sync_sessions (received_at) WHERE processed_at IS NULL;

    CREATE TABLE sync_states (
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      channel text NOT NULL,
      status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      changed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_id, channel)
    );
    CREATE INDEX sync_states_status ON sync_states (status, changed_at) WHERE status <> 0;

    CREATE TABLE attendances (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE RESTRICT,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
      device_id uuid REFERENCES devices(id) ON DELETE RESTRICT,
      record_id bigint,
      type text NOT NULL CHECK (type IN ('checkin', 'checkout')),
      occurred_at timestamptz NOT NULL,
      temperature numeric(4,1),
      photo text,
      session_id uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      clock_suspect boolean NOT NULL DEFAULT false,
      created_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      idempotency_key text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((device_id IS NULL) = (record_id IS NULL))
    );
    CREATE UNIQUE INDEX attendances_device_record ON attendances (device_id, record_id);
    -- Recomputing one user's day must not scan the table.
    CREATE INDEX attendances_user_time ON attendances (school_id, user_id, occurred_at);
    CREATE INDEX attendances_school_time ON attendances (school_id, occurred_at, id);

    CREATE TABLE high_water_marks (
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      file text NOT NULL,
      record_id bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_id, file)
    );

    CREATE TABLE rejections (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      session_id uuid NOT NULL REFERENCES sync_sessions(id) ON DELETE CASCADE,
      file text NOT NULL,
      line integer NOT NULL,
      record_id text,
      code text NOT NULL
    );
    CREATE INDEX rejections_session ON rejections (session_id, id);

    CREATE TABLE fever_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      user_id bigint REFERENCES users(id) ON DELETE SET NULL,
      device_id uuid REFERENCES devices(id) ON DELETE SET NULL,
      attendance_id bigint REFERENCES attendances(id) ON DELETE CASCADE,
      source text NOT NULL DEFAULT 'attendance',
      record_id bigint,
      temperature numeric(4,1) NOT NULL,
      occurred_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX fever_events_school_time ON fever_events (school_id, occurred_at DESC, id DESC);

    CREATE TABLE user_days (
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      date date NOT NULL,
      seconds integer NOT NULL DEFAULT 0,
      first_checkin_at timestamptz,
      last_event_at timestamptz,
      last_event_type text,
      open_since timestamptz,
      anomalies text[] NOT NULL DEFAULT '{}',
      clock_suspect boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      -- Id of the transaction that last changed the row: sums of it fingerprint a range for caches and ETags.
      rev bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
      PRIMARY KEY (user_id, date)
    );
    -- Covering: the figures read a school's range from the index alone.
    CREATE INDEX user_days_school_date ON user_days (school_id, date) INCLUDE (user_id, seconds, open_since, rev);

    CREATE TABLE device_flags (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      name text NOT NULL,
      params jsonb NOT NULL DEFAULT '{}',
      set_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      set_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      delivered_in uuid REFERENCES sync_sessions(id) ON DELETE SET NULL,
      delivered_at timestamptz,
      applied_at timestamptz,
      cancelled_at timestamptz,
      progress jsonb
    );
    CREATE INDEX device_flags_device ON device_flags (device_id, set_at DESC);
    CREATE UNIQUE INDEX device_flags_one_pending ON device_flags (device_id, name)
      WHERE delivered_in IS NULL AND cancelled_at IS NULL AND applied_at IS NULL;

    CREATE TABLE flag_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      flag_id bigint NOT NULL REFERENCES device_flags(id) ON DELETE CASCADE,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      action text NOT NULL,
      staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
      session_id uuid,
      details jsonb,
      at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX flag_events_device ON flag_events (device_id, at DESC);

    -- Failed sign-ins per client and account, shared by every api process.
    CREATE TABLE auth_throttle (
      key text PRIMARY KEY,
      failures integer NOT NULL,
      window_started_at timestamptz NOT NULL,
      blocked_until timestamptz
    );

    CREATE TABLE idempotency_keys (
      staff_id bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
      key text NOT NULL,
      request_hash text NOT NULL,
      response_status integer NOT NULL,
      response_body jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (staff_id, key)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS idempotency_keys, auth_throttle, flag_events, device_flags, user_days, fever_events,
      rejections, high_water_marks, attendances, sync_states, sync_sessions, devices, staff, users, schools CASCADE;
    DROP FUNCTION IF EXISTS touch_user();
  `.execute(db);
}
