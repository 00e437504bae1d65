// Data mart export (README "Data mart export"): a change log fed by triggers on the exported
// product tables, the export table the collect stage fills, and runs with their stages,
// sub-stages and uploads.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The last change of every exported key (deletes included). clock_timestamp(), not now():
    -- now() is the transaction's start, which can lie far before its commit. The collect
    -- stage only reads up to a bound older than every open transaction (datamart-records.ts).
    CREATE TABLE datamart_changes (
      entity text NOT NULL,
      key text NOT NULL,
      changed_at timestamptz NOT NULL,
      PRIMARY KEY (entity, key)
    );
    CREATE INDEX datamart_changes_window ON datamart_changes (entity, changed_at);

    -- One statement-level trigger per table and event: one set-based upsert per statement,
    -- keys in order so two writers never lock the same log rows in opposite orders.
    CREATE FUNCTION datamart_note_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'user_days' THEN
        INSERT INTO datamart_changes (entity, key, changed_at)
        SELECT TG_ARGV[0], k.key, clock_timestamp()
        FROM (SELECT DISTINCT r.user_id::text || ':' || to_char(r.date, 'YYYY-MM-DD') AS key FROM changed_rows r) k
        ORDER BY k.key
        ON CONFLICT (entity, key) DO UPDATE SET changed_at = EXCLUDED.changed_at;
      ELSE
        INSERT INTO datamart_changes (entity, key, changed_at)
        SELECT TG_ARGV[0], k.key, clock_timestamp()
        FROM (SELECT DISTINCT r.id::text AS key FROM changed_rows r) k
        ORDER BY k.key
        ON CONFLICT (entity, key) DO UPDATE SET changed_at = EXCLUDED.changed_at;
      END IF;
      RETURN NULL;
    END $$;

    CREATE TRIGGER schools_datamart_insert AFTER INSERT ON schools REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('schools');
    CREATE TRIGGER schools_datamart_update AFTER UPDATE ON schools REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('schools');
    CREATE TRIGGER schools_datamart_delete AFTER DELETE ON schools REFERENCING OLD TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('schools');
    CREATE TRIGGER users_datamart_insert AFTER INSERT ON users REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('persons');
    CREATE TRIGGER users_datamart_update AFTER UPDATE ON users REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('persons');
    CREATE TRIGGER users_datamart_delete AFTER DELETE ON users REFERENCING OLD TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('persons');
    CREATE TRIGGER user_days_datamart_insert AFTER INSERT ON user_days REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('attendance_days');
    CREATE TRIGGER user_days_datamart_update AFTER UPDATE ON user_days REFERENCING NEW TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('attendance_days');
    CREATE TRIGGER user_days_datamart_delete AFTER DELETE ON user_days REFERENCING OLD TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION datamart_note_changes('attendance_days');

    CREATE TABLE datamart_runs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
      requested_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
      -- A window asked for (POST /api/datamart/runs); null: from the last collected bound to now.
      requested_from timestamptz,
      requested_to timestamptz,
      window_from timestamptz,
      window_to timestamptz,
      collected_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      error text
    );
    -- One run at a time: a second one would export the same rows twice.
    CREATE UNIQUE INDEX datamart_runs_one_active ON datamart_runs ((true)) WHERE status IN ('queued', 'running');

    CREATE TABLE datamart_stages (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id bigint NOT NULL REFERENCES datamart_runs(id) ON DELETE CASCADE,
      seq integer NOT NULL,
      kind text NOT NULL CHECK (kind IN ('collect', 'export')),
      entity text NOT NULL,
      operation text CHECK (operation IN ('upsert', 'delete')),
      status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
      rows integer NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      finished_at timestamptz,
      error text,
      UNIQUE (run_id, seq)
    );
    CREATE INDEX datamart_stages_running ON datamart_stages (started_at) WHERE status = 'running';

    CREATE TABLE datamart_substages (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stage_id bigint NOT NULL REFERENCES datamart_stages(id) ON DELETE CASCADE,
      seq integer NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
      rows integer NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      finished_at timestamptz,
      error text,
      UNIQUE (stage_id, seq)
    );
    CREATE INDEX datamart_substages_running ON datamart_substages (started_at) WHERE status = 'running';

    CREATE TABLE datamart_uploads (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id bigint NOT NULL REFERENCES datamart_runs(id) ON DELETE CASCADE,
      substage_id bigint NOT NULL REFERENCES datamart_substages(id) ON DELETE CASCADE,
      entity text NOT NULL,
      operation text NOT NULL CHECK (operation IN ('upsert', 'delete')),
      file_name text NOT NULL,
      rows integer NOT NULL,
      bytes integer NOT NULL,
      -- The mart's upload_id (null when emulated or never accepted for processing).
      remote_id text,
      status text NOT NULL CHECK (status IN ('processing', 'accepted', 'rejected', 'failed')),
      errors jsonb NOT NULL DEFAULT '[]',
      attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      checked_at timestamptz,
      finished_at timestamptz
    );
    CREATE INDEX datamart_uploads_run ON datamart_uploads (run_id, id);
    CREATE INDEX datamart_uploads_processing ON datamart_uploads (id) WHERE status = 'processing';

    -- The export table: the latest collected state of every exported key. A row is pending
    -- while the version sent differs from the version collected; a later collect bumps the
    -- version, so a change made while an older version is in flight is sent again.
    CREATE TABLE datamart_records (
      entity text NOT NULL,
      key text NOT NULL,
      operation text NOT NULL CHECK (operation IN ('upsert', 'delete')),
      fields jsonb NOT NULL,
      version integer NOT NULL DEFAULT 1,
      collected_run_id bigint REFERENCES datamart_runs(id) ON DELETE SET NULL,
      collected_at timestamptz NOT NULL DEFAULT now(),
      sent_version integer,
      sent_upload_id bigint REFERENCES datamart_uploads(id) ON DELETE SET NULL,
      PRIMARY KEY (entity, key)
    );
    CREATE INDEX datamart_records_pending ON datamart_records (entity, operation, key) WHERE sent_version IS DISTINCT FROM version;
    CREATE INDEX datamart_records_upload ON datamart_records (sent_upload_id) WHERE sent_upload_id IS NOT NULL;

    -- The keys one collect stage will read, listed once and then taken in chunks.
    CREATE TABLE datamart_collect_keys (
      stage_id bigint NOT NULL REFERENCES datamart_stages(id) ON DELETE CASCADE,
      key text NOT NULL,
      PRIMARY KEY (stage_id, key)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS datamart_collect_keys, datamart_records, datamart_uploads, datamart_substages, datamart_stages, datamart_runs, datamart_changes;
    DROP TRIGGER IF EXISTS schools_datamart_insert ON schools;
    DROP TRIGGER IF EXISTS schools_datamart_update ON schools;
    DROP TRIGGER IF EXISTS schools_datamart_delete ON schools;
    DROP TRIGGER IF EXISTS users_datamart_insert ON users;
    DROP TRIGGER IF EXISTS users_datamart_update ON users;
    DROP TRIGGER IF EXISTS users_datamart_delete ON users;
    DROP TRIGGER IF EXISTS user_days_datamart_insert ON user_days;
    DROP TRIGGER IF EXISTS user_days_datamart_update ON user_days;
    DROP TRIGGER IF EXISTS user_days_datamart_delete ON user_days;
    DROP FUNCTION IF EXISTS datamart_note_changes();
  `.execute(db);
}
