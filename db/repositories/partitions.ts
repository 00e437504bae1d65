// Monthly partitions (migration 20261208_200000, docs/scaling-partitions.md): created ahead by
// the worker's daily job, and a month of punches dropped whole by the nightly retention job
// (worker/jobs/index.ts, with pruneRetention: one retention, docs/DATA-PROTECTION.md) once it is
// older than RETENTION_PUNCH_MONTHS and the data mart export covers it. A month the export has
// not covered is never dropped: no data mart configured, nothing is dropped.
import { sql } from 'kysely';
import type { DbOrTrx, Db } from '../database.js';

/** Partitioned by month, with the column that places a row. */
export const PARTITIONED = { attendances: 'occurred_at', readings: 'measured_at', rejections: 'created_at', staff_audit: 'at' } as const;
export type PartitionedTable = keyof typeof PARTITIONED;
/** The tables whose old months retention drops; the staff audit stays (it is not exported). */
export const DROPPED_AFTER_RETENTION: readonly PartitionedTable[] = ['attendances', 'readings', 'rejections'];

/** A DDL statement waits this long for the table's lock, then gives up until the next run (it never holds imports up longer). */
const LOCK_TIMEOUT = '5s';

const monthStart = (d: Date, add = 0) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Makes the month partitions of `table` that rows in its DEFAULT partition need (the last three
 * years: a clock far off stays where it is), moving those rows in; answers those made.
 */
export async function adoptDefaultRows(db: DbOrTrx, table: PartitionedTable): Promise<string[]> {
  const column = sql.ref(PARTITIONED[table]);
  const r = await sql<{ name: string }>`
    WITH months AS MATERIALIZED (
      SELECT DISTINCT date_trunc('month', ${column} AT TIME ZONE 'UTC')::date AS m FROM ${sql.table(`${table}_default`)}
      WHERE ${column} >= date_trunc('month', now() AT TIME ZONE 'UTC') - interval '36 months' AND ${column} < now() + interval '4 months'
    )
    SELECT ${table} || '_p' || to_char(m, 'YYYY_MM') AS name FROM months WHERE ensure_month_partition(${table}, m) ORDER BY m`.execute(db);
  return r.rows.map((x) => x.name);
}

/**
 * Makes the partitions of this month and the next `monthsAhead` for every partitioned table,
 * and those the rows in a DEFAULT partition need; answers those made.
 */
export async function ensurePartitions(db: Db, monthsAhead: number, now = new Date()): Promise<string[]> {
  const made: string[] = [];
  for (const table of Object.keys(PARTITIONED) as PartitionedTable[]) {
    made.push(...await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = ${sql.lit(LOCK_TIMEOUT)}`.execute(trx);
      return adoptDefaultRows(trx, table);
    }));
    for (let i = 0; i <= monthsAhead; i++) {
      const month = monthStart(now, i);
      const created = await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = ${sql.lit(LOCK_TIMEOUT)}`.execute(trx);
        const r = await sql<{ made: boolean }>`SELECT ensure_month_partition(${table}, ${isoDate(month)}::date) AS made`.execute(trx);
        return r.rows[0].made;
      });
      if (created) made.push(partitionName(table, month));
    }
  }
  return made;
}

export const partitionName = (table: PartitionedTable, month: Date) =>
  `${table}_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;

export interface MonthPartition { table: PartitionedTable; name: string; month: string }

/** The month partitions of `table` (not its DEFAULT one), oldest first. */
export async function monthPartitions(db: DbOrTrx, table: PartitionedTable): Promise<MonthPartition[]> {
  const r = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = ${table}::regclass AND c.relname ~ '_p[0-9]{4}_[0-9]{2}$' ORDER BY c.relname`.execute(db);
  return r.rows.map(({ name }) => ({ table, name, month: `${name.slice(-7, -3)}-${name.slice(-2)}` }));
}

/**
 * The first instant the data mart export does not cover: the end of the last scheduled run
 * that finished (its window, less two days for the schools' timezones), or the earliest day
 * whose figures are still waiting to be sent, whichever is first; null when nothing was ever exported.
 */
export async function exportedUntil(db: DbOrTrx): Promise<Date | null> {
  const r = await sql<{ until: Date | null }>`
    SELECT least(
      (SELECT max(window_to) FROM datamart_runs WHERE status = 'done' AND requested_from IS NULL AND requested_to IS NULL) - interval '2 days',
      (SELECT min(split_part(key, ':', 2)::date) FROM datamart_records
        WHERE entity = 'attendance_days' AND sent_version IS DISTINCT FROM version) - interval '1 day') AS until`.execute(db);
  // least() ignores a null: no pending day leaves the run's window.
  const run = await sql<{ done: boolean }>`SELECT EXISTS (SELECT 1 FROM datamart_runs WHERE status = 'done' AND requested_from IS NULL AND requested_to IS NULL) AS done`.execute(db);
  return run.rows[0].done ? r.rows[0].until : null;
}

export interface DroppedMonth { table: PartitionedTable; name: string; month: string; ms: number }

/**
 * Drops (detach, then drop) every month partition of the punch tables that ends at least
 * `retentionMonths` before the current month and before `exportedUntil`. 0 months: never.
 */
export async function dropExpiredMonths(db: Db, retentionMonths: number, now = new Date()): Promise<DroppedMonth[]> {
  if (retentionMonths <= 0) return [];
  const until = await exportedUntil(db);
  if (until === null) return [];
  const cutoff = monthStart(now, -retentionMonths);
  const dropped: DroppedMonth[] = [];
  for (const table of DROPPED_AFTER_RETENTION) {
    for (const p of await monthPartitions(db, table)) {
      const end = monthStart(new Date(`${p.month}-01T00:00:00Z`), 1);
      if (end > cutoff || end > until) continue;
      const started = performance.now();
      await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = ${sql.lit(LOCK_TIMEOUT)}`.execute(trx);
        await sql`ALTER TABLE ${sql.id(table)} DETACH PARTITION ${sql.id(p.name)}`.execute(trx);
        await sql`DROP TABLE ${sql.id(p.name)}`.execute(trx);
      });
      dropped.push({ ...p, ms: Math.round(performance.now() - started) });
    }
  }
  return dropped;
}
