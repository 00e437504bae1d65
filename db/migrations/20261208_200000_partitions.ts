// Monthly partitions (issue 32, docs/scaling-partitions.md): the tables that grow with every
// punch are partitioned by range of the row's time, one partition a month plus a DEFAULT one
// that catches any other month (an insert never fails for want of a partition):
//   attendances (occurred_at), readings (measured_at), rejections (created_at, new), staff_audit (at).
// A month is then dropped whole by the retention job (db/repositories/partitions.ts) once the
// data mart export covers it, in well under a second, instead of deleting its rows one by one.
//
// PostgreSQL enforces a unique index of a partitioned table only when it includes the partition
// key, so the device keys a resend is deduplicated on move to narrow key tables, written in the
// same statement as the row (db/repositories/staged-attendances.ts, push-punches.ts, held-punches.ts,
// readings.ts): attendance_keys (school_id, device_id, record_id → the row's id and time), attendance_push_keys
// (school_id, device_id, pin, local_time) and reading_keys (school_id, device_id, record_id).
// They are never partitioned nor dropped with a month: a device resending a row of a dropped
// month still finds it held.
//
// Shard-ready (Citus multi-tenant rules): every primary and unique key carries school_id
// (rejections gain the session's), except staff_audit's (back-office rows have no school; see
// docs/scaling-partitions.md). The foreign keys fever_events → attendances / readings
// go: a key to a partitioned table must name its partition key, and a dropped month must not
// cascade into the alerts (retention removes those by their own time).
//
// Existing rows move: each table is rebuilt as a partitioned one (INSERT … SELECT), then takes
// the old name. Not additive: the previous release's code inserts without the key tables.
import { type Kysely, sql } from 'kysely';

/**
 * The partition function, also called by the worker's daily job: one month of `parent`. Made as
 * a table of its own, then attached: ATTACH PARTITION takes a SHARE UPDATE EXCLUSIVE lock on the
 * parent, which inserts do not wait for (CREATE TABLE … PARTITION OF would take an ACCESS
 * EXCLUSIVE one and hold the imports up while it waits).
 */
const ENSURE_FUNCTION = sql`
  CREATE FUNCTION ensure_month_partition(parent text, month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
  DECLARE
    lo text := to_char(date_trunc('month', month), 'YYYY-MM-DD') || ' 00:00:00+00';
    hi text := to_char(date_trunc('month', month) + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
    part text := parent || '_p' || to_char(month, 'YYYY_MM');
    def text := parent || '_default';
    col text;
  BEGIN
    IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
    SELECT a.attname INTO col FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = parent::regclass;
    -- PostgreSQL refuses a partition whose rows the DEFAULT one holds: they move into it.
    EXECUTE format('CREATE TEMP TABLE partition_moved ON COMMIT DROP AS WITH d AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) SELECT * FROM d',
      def, col, lo, col, hi);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
    -- The bound as a constraint first: ATTACH then need not scan the (empty) table.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I >= %L AND %I < %L)', part, part || '_month', col, lo, col, hi);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_month');
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM partition_moved', parent);
    DROP TABLE partition_moved;
    RETURN true;
  END $fn$
`;

/** Moves `table`'s rows into a new table made by `create` (LIKE the old one), under the old name; `then` restores its keys and indexes. */
async function rebuild(db: Kysely<unknown>, table: string, create: (old: ReturnType<typeof sql.id>) => Array<ReturnType<typeof sql>>, primaryKey: string, then: string): Promise<void> {
  const t = sql.id(table);
  const old = sql.id(`${table}_moving`);
  await sql`ALTER TABLE ${t} RENAME TO ${old}`.execute(db);
  for (const statement of create(old)) await statement.execute(db);
  await sql`INSERT INTO ${t} OVERRIDING SYSTEM VALUE SELECT * FROM ${old}`.execute(db);
  const { rows } = await sql<{ seq: string; last: string | null }>`SELECT pg_get_serial_sequence(${table}, 'id') AS seq, (SELECT max(id) FROM ${old})::text AS last`.execute(db);
  await sql`DROP TABLE ${old} CASCADE`.execute(db);
  // The identity goes on from the old table's last id, under the old sequence's name.
  await sql`SELECT setval(${rows[0].seq}, ${rows[0].last ?? '1'}::bigint, ${rows[0].last !== null})`.execute(db);
  await sql`ALTER SEQUENCE ${sql.raw(rows[0].seq)} RENAME TO ${sql.id(`${table}_id_seq`)}`.execute(db);
  await sql`ALTER TABLE ${t} ADD PRIMARY KEY (${sql.raw(primaryKey)})`.execute(db);
  await sql.raw(then).execute(db);
}

/** Partitioned by `column`, a DEFAULT partition, and the months the rows are in (the demo's history, a test database's few rows) with the current and next months. */
const partitioned = (table: string, column: string, primaryKey: string) => async (db: Kysely<unknown>) => rebuild(db, table, (old) => [
  sql`CREATE TABLE ${sql.id(table)} (LIKE ${old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) PARTITION BY RANGE (${sql.id(column)})`,
  sql`CREATE TABLE ${sql.id(`${table}_default`)} PARTITION OF ${sql.id(table)} DEFAULT`,
  sql`SELECT ensure_month_partition(${table}, m::date) FROM (
      SELECT DISTINCT date_trunc('month', ${sql.ref(column)} AT TIME ZONE 'UTC') AS m FROM ${old}
      WHERE ${sql.ref(column)} >= date_trunc('month', now() AT TIME ZONE 'UTC') - interval '36 months' AND ${sql.ref(column)} < now() + interval '2 months'
      UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'
    ) months ORDER BY m`], primaryKey, INDEXES[table].up);

const plain = (table: string) => async (db: Kysely<unknown>) => rebuild(db, table, (old) => [
  sql`CREATE TABLE ${sql.id(table)} (LIKE ${old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)`,
], 'id', INDEXES[table].down);

/**
 * The key to the session: on sync_sessions (id) while that is unique alone, on (school_id, id)
 * once the shard-ready keys (20261208_100000) made the primary key (id, school_id); down puts
 * back the single-column key only where that migration had not dropped it.
 */
const sessionKey = (table: string, onDelete: string, up: boolean) => `
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = 'sync_sessions'::regclass AND i.indisunique AND i.indnatts = 1
                     AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = 'sync_sessions'::regclass AND attname = 'id')) THEN
          ALTER TABLE ${table} ADD CONSTRAINT ${table}_session_id_fkey FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE ${onDelete};
        ${up ? `ELSE
          ALTER TABLE ${table} ADD CONSTRAINT ${table}_session_id_fkey FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id)
            ON DELETE ${onDelete === 'SET NULL' ? 'SET NULL (session_id)' : onDelete};` : ''}
        END IF;
      END $$;`;

/** Each table's keys and indexes, partitioned (up) and as they were (down). */
const INDEXES: Record<string, { up: string; down: string }> = {
  attendances: {
    up: `
      ALTER TABLE attendances ADD CONSTRAINT attendances_created_by_fkey FOREIGN KEY (created_by) REFERENCES staff(id) ON DELETE SET NULL;
      CREATE INDEX attendances_push_key ON attendances (device_id, pin, local_time) WHERE pin IS NOT NULL;
      -- A withdrawal has its correction's time: the same month, so the key holds.
      CREATE UNIQUE INDEX attendances_cancels ON attendances (school_id, cancels_id, occurred_at) WHERE cancels_id IS NOT NULL;`,
    down: `
      ALTER TABLE attendances ADD CONSTRAINT attendances_created_by_fkey FOREIGN KEY (created_by) REFERENCES staff(id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX attendances_device_record ON attendances (device_id, record_id);
      CREATE UNIQUE INDEX attendances_push_key ON attendances (device_id, pin, local_time) WHERE pin IS NOT NULL;
      CREATE UNIQUE INDEX attendances_cancels ON attendances (cancels_id) WHERE cancels_id IS NOT NULL;`,
  },
  readings: {
    up: `
      ALTER TABLE readings ADD CONSTRAINT readings_school_id_fkey FOREIGN KEY (school_id) REFERENCES schools(id) ON DELETE RESTRICT;
      ${sessionKey('readings', 'SET NULL', true)}
      CREATE INDEX readings_device_record ON readings (device_id, record_id);
      CREATE INDEX readings_school_time ON readings (school_id, measured_at);`,
    down: `
      ALTER TABLE readings ADD CONSTRAINT readings_school_id_fkey FOREIGN KEY (school_id) REFERENCES schools(id) ON DELETE RESTRICT;
      ${sessionKey('readings', 'SET NULL', false)}
      CREATE UNIQUE INDEX readings_device_record ON readings (device_id, record_id);
      CREATE INDEX readings_school_time ON readings (school_id, measured_at);`,
  },
  rejections: {
    up: `
      ${sessionKey('rejections', 'CASCADE', true)}
      CREATE INDEX rejections_session ON rejections (session_id, id);`,
    down: `
      ${sessionKey('rejections', 'CASCADE', false)}
      CREATE INDEX rejections_session ON rejections (session_id, id);
      ALTER TABLE rejections DROP COLUMN created_at, DROP COLUMN school_id;`,
  },
  staff_audit: {
    up: `
      ALTER TABLE staff_audit ADD CONSTRAINT staff_audit_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES staff(id) ON DELETE SET NULL,
        ADD CONSTRAINT staff_audit_school_id_fkey FOREIGN KEY (school_id) REFERENCES schools(id) ON DELETE CASCADE;
      CREATE INDEX staff_audit_school ON staff_audit (school_id, at DESC, id DESC);
      CREATE INDEX staff_audit_subject ON staff_audit (subject, subject_id);`,
    down: '',
  },
};
INDEXES.staff_audit.down = INDEXES.staff_audit.up;
// Both ways alike.
const ATTENDANCES_COMMON = `
      CREATE INDEX attendances_user_time ON attendances (school_id, user_id, occurred_at);
      CREATE INDEX attendances_school_time ON attendances (school_id, occurred_at, id);
      CREATE INDEX attendances_device_photo ON attendances (device_id, photo) WHERE photo IS NOT NULL;
      CREATE INDEX attendances_photo_kept ON attendances (occurred_at) WHERE photo IS NOT NULL;
      CREATE INDEX attendances_temperature_kept ON attendances (occurred_at) WHERE temperature IS NOT NULL;`;
INDEXES.attendances.up += ATTENDANCES_COMMON;
INDEXES.attendances.down += ATTENDANCES_COMMON;

export async function up(db: Kysely<unknown>): Promise<void> {
  await ENSURE_FUNCTION.execute(db);
  // Rows appear in rejections without a time of their own: the time they were stored.
  await sql`ALTER TABLE rejections ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`.execute(db);
  // And the session's school (a PUSH session's own, a v4 one's device's): the key carries it.
  await sql`ALTER TABLE rejections ADD COLUMN school_id bigint`.execute(db);
  await sql`UPDATE rejections r SET school_id = coalesce(s.school_id, d.school_id) FROM sync_sessions s JOIN devices d ON d.id = s.device_id WHERE s.id = r.session_id`.execute(db);
  await sql`ALTER TABLE rejections ALTER COLUMN school_id SET NOT NULL`.execute(db);
  await sql`ALTER TABLE fever_events DROP CONSTRAINT fever_events_attendance_id_fkey, DROP CONSTRAINT fever_events_reading_id_fkey`.execute(db);
  // The key tables, filled from the rows before they move.
  await sql`
    -- With the row's id and time: a resent row's stored one is found by its primary key (in its
    -- month), so attendances need no index on (device_id, record_id) any more.
    CREATE TABLE attendance_keys (
      school_id bigint NOT NULL,
      device_id uuid NOT NULL,
      record_id bigint NOT NULL,
      attendance_id bigint NOT NULL,
      occurred_at timestamptz NOT NULL,
      PRIMARY KEY (school_id, device_id, record_id)
    );
    CREATE TABLE attendance_push_keys (
      school_id bigint NOT NULL,
      device_id uuid NOT NULL,
      pin text NOT NULL,
      local_time timestamp NOT NULL,
      PRIMARY KEY (school_id, device_id, pin, local_time)
    );
    CREATE TABLE reading_keys (
      school_id bigint NOT NULL,
      device_id uuid NOT NULL,
      record_id bigint NOT NULL,
      PRIMARY KEY (school_id, device_id, record_id)
    );
    INSERT INTO attendance_keys SELECT school_id, device_id, record_id, id, occurred_at FROM attendances WHERE record_id IS NOT NULL;
    INSERT INTO attendance_push_keys SELECT school_id, device_id, pin, local_time FROM attendances WHERE pin IS NOT NULL;
    INSERT INTO reading_keys SELECT school_id, device_id, record_id FROM readings;
  `.execute(db);
  // A device moved to another school keeps what it sent as held: its keys follow it (the row
  // stays with the school it was sent to; a resend is a duplicate, never a row in the new school).
  await sql`
    CREATE FUNCTION device_keys_follow_school() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO attendance_keys SELECT NEW.school_id, device_id, record_id, attendance_id, occurred_at FROM attendance_keys
        WHERE school_id = OLD.school_id AND device_id = NEW.id ON CONFLICT DO NOTHING;
      INSERT INTO attendance_push_keys SELECT NEW.school_id, device_id, pin, local_time FROM attendance_push_keys
        WHERE school_id = OLD.school_id AND device_id = NEW.id ON CONFLICT DO NOTHING;
      INSERT INTO reading_keys SELECT NEW.school_id, device_id, record_id FROM reading_keys
        WHERE school_id = OLD.school_id AND device_id = NEW.id ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $fn$;
    CREATE TRIGGER devices_keys_follow_school AFTER UPDATE OF school_id ON devices
      FOR EACH ROW WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id) EXECUTE FUNCTION device_keys_follow_school();
  `.execute(db);
  await partitioned('attendances', 'occurred_at', 'id, occurred_at, school_id')(db);
  await partitioned('readings', 'measured_at', 'id, measured_at, school_id')(db);
  await partitioned('rejections', 'created_at', 'id, created_at, school_id')(db);
  await partitioned('staff_audit', 'at', 'id, at')(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['attendances', 'readings', 'rejections', 'staff_audit']) await plain(table)(db);
  await sql`
    DROP TRIGGER devices_keys_follow_school ON devices;
    DROP FUNCTION device_keys_follow_school();
    DROP TABLE attendance_keys, attendance_push_keys, reading_keys;
    ALTER TABLE fever_events ADD CONSTRAINT fever_events_attendance_id_fkey FOREIGN KEY (attendance_id) REFERENCES attendances(id) ON DELETE CASCADE,
      ADD CONSTRAINT fever_events_reading_id_fkey FOREIGN KEY (reading_id) REFERENCES readings(id) ON DELETE CASCADE;
    DROP FUNCTION ensure_month_partition(text, date);
  `.execute(db);
}
