// Times the partitions migration on N generated attendances rows (half with a v4 key, a quarter PUSH, a quarter REST) over 14 months.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrator } from '/work/wt-dates/db/migrator.ts';
import { ensureDatabase } from '/work/wt-dates/db/embedded.ts';
import fs from 'node:fs';
const N = Number(process.argv[2] ?? 1_000_000);
const name = `measure_${N}`;
const admin = new pg.Client({ connectionString: fs.readFileSync('/tmp/pd-dates/url', 'utf8') });
await admin.connect(); await admin.query(`DROP DATABASE IF EXISTS ${name}`); await admin.end();
const url = await ensureDatabase(fs.readFileSync('/tmp/pd-dates/url', 'utf8'), name);
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
const m = migrator(db);
const r1 = await m.migrateTo('20261207_500000_school_admin');
if (r1.error) throw r1.error;
await sql`INSERT INTO schools (name) VALUES ('s')`.execute(db);
await sql`INSERT INTO users (school_id, name, badge) SELECT 1, 'u' || i, 'b' || i FROM generate_series(1, 1000) i`.execute(db);
await sql`INSERT INTO devices (school_id, name, secret_hash) SELECT 1, 'd' || i, 'x' FROM generate_series(1, 100) i`.execute(db);
let t = performance.now();
await sql`
  INSERT INTO attendances (school_id, user_id, device_id, record_id, type, occurred_at, pin, local_time, session_id)
  SELECT 1, 1 + i % 1000, CASE WHEN i % 4 = 3 THEN NULL ELSE d.id END,
    CASE WHEN i % 4 < 2 THEN i END, CASE WHEN i % 2 = 0 THEN 'checkin' ELSE 'checkout' END,
    now() - (i * (420.0 * 86400 / ${N})) * interval '1 second',
    CASE WHEN i % 4 = 2 THEN 'b' || (i % 1000) END, CASE WHEN i % 4 = 2 THEN (now() - (i * (420.0 * 86400 / ${N})) * interval '1 second')::timestamp END, NULL
  FROM generate_series(1, ${N}) i JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM devices) d ON d.k = i % 100`.execute(db);
await sql`INSERT INTO readings (school_id, device_id, record_id, user_id, measured_at, temperature) SELECT 1, (SELECT id FROM devices LIMIT 1), i, 1, now() - i * interval '1 minute', 36.6 FROM generate_series(1, ${Math.round(N / 10)}) i`.execute(db);
await sql`VACUUM ANALYZE`.execute(db);
console.log(`generated ${N} attendances + ${N / 10} readings in ${Math.round(performance.now() - t)} ms`);
const size = await sql<{ s: string }>`SELECT pg_size_pretty(pg_total_relation_size('attendances')) AS s`.execute(db);
t = performance.now();
const r2 = await m.migrateToLatest();
if (r2.error) throw r2.error;
const ms = Math.round(performance.now() - t);
const parts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'attendances'::regclass`.execute(db);
const count = await sql<{ n: number; k: number }>`SELECT (SELECT count(*) FROM attendances)::int AS n, (SELECT count(*) FROM attendance_keys)::int + (SELECT count(*) FROM attendance_push_keys)::int AS k`.execute(db);
console.log(JSON.stringify({ rows: N, size: size.rows[0].s, migration_ms: ms, per_million_s: +(ms / 1000 / (N / 1e6)).toFixed(1), partitions: parts.rows[0].n, after: count.rows[0] }));
await db.destroy();
