// Partitions (docs/scaling-partitions.md): how long retention takes to drop a month of
// check-ins, and how long the partitions migration takes per million existing rows.
// Drop: MONTH_ROWS check-ins (with their keys) in one month partition, dropped by the
// retention code itself (dropExpiredMonths: DETACH then DROP), timed. Anchor: DELETE of the
// same month's rows from an unpartitioned copy, the way a month would go without partitions.
// Goal: the drop under a second. Migration: MIGRATION_ROWS rows generated on the schema of the
// previous migration, then the partitions migration alone, timed (seconds per million rows).
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { ensureDatabase } from '../../db/embedded.js';
import { migrator } from '../../db/migrator.js';
import { dropExpiredMonths, ensurePartitions } from '../../db/repositories/partitions.js';
import type { BenchContext, ScenarioResult } from '../harness.js';

const MONTH_ROWS = 300_000;
const MIGRATION_ROWS = 500_000;
const BEFORE = '20261207_500000_school_admin';
const round1 = (v: number) => Math.round(v * 10) / 10;

/** `n` check-ins over `days` days back from `end`, from 100 devices of school 1 (a v4 half, a PUSH quarter, a REST quarter). */
const generate = (n: number, end: string, days: number) => sql`
  INSERT INTO attendances (school_id, user_id, device_id, record_id, type, occurred_at, pin, local_time)
  SELECT 1, u.id, CASE WHEN i % 4 = 3 THEN NULL ELSE d.id END, CASE WHEN i % 4 < 2 THEN i END,
    CASE WHEN i % 2 = 0 THEN 'checkin' ELSE 'checkout' END, t,
    CASE WHEN i % 4 = 2 THEN 'b' || i END, CASE WHEN i % 4 = 2 THEN t::timestamp END
  FROM generate_series(1, ${n}) i
  CROSS JOIN LATERAL (SELECT ${end}::timestamptz - (i * (${days}::float8 * 86400 / ${n})) * interval '1 second' AS t) tt
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM devices) d ON d.k = i % 100
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users) u ON u.k = i % 1000`;

async function seed(db: Kysely<any>): Promise<void> {
  await sql`INSERT INTO schools (name) VALUES ('Partitions school')`.execute(db);
  await sql`INSERT INTO users (school_id, name, badge) SELECT 1, 'u' || i, 'b' || i FROM generate_series(1, 1000) i`.execute(db);
  await sql`INSERT INTO devices (school_id, name, secret_hash) SELECT 1, 'd' || i, 'x' FROM generate_series(1, 100) i`.execute(db);
}

export async function partitionsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  // Drop a month.
  const { handle } = await ctx.database('partitions');
  const { db } = handle;
  let drop: { ms: number; rows: number; mb: number };
  let deleteMs: number;
  try {
    await seed(db as unknown as Kysely<any>);
    await ensurePartitions(db, 0, new Date('2025-01-15T00:00:00Z'));
    ctx.progress(`generating ${MONTH_ROWS} check-ins in January 2025`);
    await generate(MONTH_ROWS, '2025-01-31T23:00:00Z', 30).execute(db);
    await sql`INSERT INTO attendance_keys SELECT school_id, device_id, record_id, id, occurred_at FROM attendances_p2025_01 WHERE record_id IS NOT NULL`.execute(db);
    await sql`INSERT INTO attendance_push_keys SELECT school_id, device_id, pin, local_time FROM attendances_p2025_01 WHERE pin IS NOT NULL`.execute(db);
    // The anchor's copy, unpartitioned, with the same indexes.
    await sql`CREATE TABLE attendances_flat (LIKE attendances_p2025_01 INCLUDING ALL)`.execute(db);
    await sql`INSERT INTO attendances_flat OVERRIDING SYSTEM VALUE SELECT * FROM attendances_p2025_01`.execute(db);
    await sql`CHECKPOINT`.execute(db);
    await sql`ANALYZE`.execute(db);
    const size = await sql<{ b: string }>`SELECT pg_total_relation_size('attendances_p2025_01')::text AS b`.execute(db);
    await sql`INSERT INTO datamart_runs (trigger, status, window_from, window_to, collected_at, started_at, finished_at)
      VALUES ('schedule', 'done', '2025-01-01', '2025-06-01', '2025-06-01', '2025-06-01', '2025-06-01')`.execute(db);
    ctx.progress('dropping the month');
    const started = performance.now();
    const dropped = await dropExpiredMonths(db, 1, new Date('2025-06-10T00:00:00Z'));
    const ms = performance.now() - started;
    if (!dropped.some((d) => d.name === 'attendances_p2025_01')) throw new Error('the month was not dropped');
    drop = { ms, rows: MONTH_ROWS, mb: Number(size.rows[0].b) / 1048576 };
    ctx.progress('deleting the same month from an unpartitioned copy (anchor)');
    const t = performance.now();
    await sql`DELETE FROM attendances_flat WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-02-01'`.execute(db);
    deleteMs = performance.now() - t;
  } finally {
    await handle.close();
  }

  // Migrate existing rows.
  const url = await ensureDatabase(ctx.pg.url, 'bench_partitions_migration');
  const mdb = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
  let migrationMs: number;
  try {
    const m = migrator(mdb);
    const before = await m.migrateTo(BEFORE);
    if (before.error) throw before.error;
    await seed(mdb);
    ctx.progress(`generating ${MIGRATION_ROWS} check-ins over 14 months on the previous schema`);
    await generate(MIGRATION_ROWS, new Date().toISOString(), 420).execute(mdb);
    await sql`VACUUM ANALYZE attendances`.execute(mdb);
    ctx.progress('migrating');
    const t = performance.now();
    const after = await m.migrateToLatest();
    if (after.error) throw after.error;
    migrationMs = performance.now() - t;
  } finally {
    await mdb.destroy();
  }
  return {
    figures: {
      month_rows: drop.rows, month_mb: round1(drop.mb), drop_ms: Math.round(drop.ms),
      migration_rows: MIGRATION_ROWS, migration_seconds: round1(migrationMs / 1000), migration_seconds_per_million: round1(migrationMs / 1000 / (MIGRATION_ROWS / 1e6)),
    },
    anchor: { delete_month_ms: Math.round(deleteMs) },
    goal: 'a month dropped in under a second',
    met: drop.ms < 1000,
    notes: 'drop: dropExpiredMonths (DETACH + DROP of attendances, readings and rejections months, keys kept); anchor: DELETE of the same rows from an unpartitioned copy with the same indexes',
  };
}
