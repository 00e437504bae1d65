// The collect side of the data mart export: the run's window, the keys a collect stage reads,
// the product rows behind them, and the export table (datamart_records) they are written to.
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { DatamartEntityName, DatamartOperation } from '../schema/index.js';

/** An instant as text to the microsecond: a JS Date would round window bounds to the millisecond. */
export function isoMicros(expr: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export interface RunWindow {
  from: string | null;
  to: string;
}

/**
 * Fixes the run's half-open window [from, to). `from` is the window asked for, else the
 * highest bound already collected (null the first time). `to` is the bound asked for, else
 * now, but never later than the start of the oldest transaction still open: a change is
 * stamped with clock_timestamp() inside its transaction, at or after that transaction's
 * start, and becomes visible only at commit; a bound older than every open transaction
 * therefore has every change before it already committed, and none is skipped. (The check
 * reads pg_stat_activity, so the role must see other sessions' xact_start: the same role
 * for the api and the worker, or pg_read_all_stats.) The clock is read first, activity second.
 * A scheduled run also fixes [xid_from, xid_to) over user_days.rev, chained the same way:
 * xid_to is the snapshot's xmin, below which every transaction has finished.
 */
export async function fixWindow(trx: Trx, runId: number): Promise<RunWindow> {
  const clock = await sql<{ t: string }>`SELECT ${isoMicros(sql`clock_timestamp()`)} AS t`.execute(trx);
  const row = await sql<{ from: string | null; to: string }>`
    WITH b AS (
      SELECT
        coalesce(r.requested_from, (SELECT max(window_to) FROM datamart_runs WHERE collected_at IS NOT NULL)) AS f,
        least(
          ${clock.rows[0].t}::timestamptz,
          coalesce(r.requested_to, 'infinity'::timestamptz),
          coalesce((SELECT min(xact_start) FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()),
                   'infinity'::timestamptz)
        ) AS t,
        r.requested_from IS NOT NULL OR r.requested_to IS NOT NULL AS asked
      FROM datamart_runs r WHERE r.id = ${runId}
    )
    UPDATE datamart_runs r SET window_from = b.f, window_to = greatest(b.t, b.f),
      -- user-days (see the migration 20261204_100100): every transaction below the snapshot's xmin has finished.
      xid_from = CASE WHEN b.asked THEN NULL ELSE (SELECT max(xid_to) FROM datamart_runs WHERE collected_at IS NOT NULL) END,
      xid_to = CASE WHEN b.asked THEN NULL ELSE pg_snapshot_xmin(pg_current_snapshot())::text::bigint END
    FROM b WHERE r.id = ${runId}
    RETURNING ${isoMicros(sql.ref('r.window_from'))} AS "from", ${isoMicros(sql.ref('r.window_to'))} AS "to"
  `.execute(trx);
  return row.rows[0];
}

/** Product rows whose key has never been collected: picked up whatever their change time. */
const NEVER_COLLECTED: Record<DatamartEntityName, RawBuilder<unknown>> = {
  schools: sql`SELECT p.id::text AS key FROM schools p
    WHERE NOT EXISTS (SELECT 1 FROM datamart_records d WHERE d.entity = 'schools' AND d.key = p.id::text)`,
  persons: sql`SELECT p.id::text AS key FROM users p
    WHERE NOT EXISTS (SELECT 1 FROM datamart_records d WHERE d.entity = 'persons' AND d.key = p.id::text)`,
  // Only days already over in the school's timezone: a day is exported once its figures are final.
  attendance_days: sql`SELECT p.user_id::text || ':' || to_char(p.date, 'YYYY-MM-DD') AS key
    FROM user_days p JOIN schools s ON s.id = p.school_id
    WHERE p.date < (now() AT TIME ZONE s.timezone)::date
      AND NOT EXISTS (SELECT 1 FROM datamart_records d WHERE d.entity = 'attendance_days'
                      AND d.key = p.user_id::text || ':' || to_char(p.date, 'YYYY-MM-DD'))`,
};

/**
 * User-days changed inside the run's window, read from their own stamp (user_days.rev, indexed;
 * no change log): a scheduled run by transaction ids [xid_from, xid_to), a window asked for by
 * the time of the change. Deleted days come from the change log (a trigger on DELETE).
 */
const stampedDays = (runId: number) => sql`
  SELECT p.user_id::text || ':' || to_char(p.date, 'YYYY-MM-DD') AS key FROM user_days p
  WHERE p.rev >= (SELECT coalesce(xid_from, 0) FROM datamart_runs WHERE id = ${runId})
    AND p.rev < (SELECT xid_to FROM datamart_runs WHERE id = ${runId})
  UNION
  SELECT p.user_id::text || ':' || to_char(p.date, 'YYYY-MM-DD') FROM user_days p JOIN datamart_runs r ON r.id = ${runId}
  WHERE r.xid_to IS NULL AND p.updated_at >= coalesce(r.window_from, '-infinity'::timestamptz) AND p.updated_at < r.window_to`;

/** Lists, once, every key the stage will collect: changed inside the run's window, or never collected. */
export async function listCollectKeys(db: DbOrTrx, stageId: number, runId: number, entity: DatamartEntityName): Promise<number> {
  const result = await sql`
    INSERT INTO datamart_collect_keys (stage_id, key)
    SELECT ${stageId}, k.key FROM (
      SELECT c.key FROM datamart_changes c JOIN datamart_runs r ON r.id = ${runId}
      WHERE c.entity = ${entity} AND c.changed_at >= coalesce(r.window_from, '-infinity'::timestamptz) AND c.changed_at < r.window_to
      UNION
      ${entity === 'attendance_days' ? sql`${stampedDays(runId)} UNION` : sql``}
      ${NEVER_COLLECTED[entity]}
    ) k
    ON CONFLICT DO NOTHING
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function nextCollectKeys(db: DbOrTrx, stageId: number, afterKey: string | null, limit: number): Promise<string[]> {
  let q = db.selectFrom('datamart_collect_keys').select('key').where('stage_id', '=', stageId);
  if (afterKey !== null) q = q.where('key', '>', afterKey);
  return (await q.orderBy('key').limit(limit).execute()).map((r) => r.key);
}

export async function clearCollectKeys(db: DbOrTrx, stageId: number): Promise<void> {
  await db.deleteFrom('datamart_collect_keys').where('stage_id', '=', stageId).execute();
}

export interface SchoolSource {
  id: number;
  name: string;
  timezone: string;
  school_days: number[];
  day_end: string;
  attendance_threshold: number;
  late_after: string | null;
  records_from: string | null;
}

export interface PersonSource {
  id: number;
  school_id: number;
  name: string;
  badge: string;
  enrolled_on: string;
  deleted_at: Date | null;
}

export interface AttendanceDaySource {
  key: string;
  user_id: number;
  school_id: number;
  date: string;
  seconds: number;
  first_checkin_at: Date | null;
  open_since: Date | null;
  anomalies: string[];
  timezone: string;
  day_end: string;
  /** The day is over in the school's timezone. */
  ended: boolean;
  late_after: string | null;
  records_from: string | null;
  mark: string | null;
  mark_reason: string | null;
  mark_conflict: string | null;
  /** Authors of the day's marks ("staff:a@b.c", "teacher:<device name>"), in the order written. */
  marked_by: string[];
  /** Staff corrections of the day still standing, and their authors' emails. */
  corrections: number;
  corrected_by: string[];
}

export async function schoolSources(db: DbOrTrx, keys: readonly string[]): Promise<SchoolSource[]> {
  const rows = await sql<SchoolSource>`
    SELECT id, name, timezone, school_days, to_char(day_end, 'HH24:MI') AS day_end, attendance_threshold, to_char(late_after, 'HH24:MI') AS late_after,
      coalesce(records_from, (SELECT min(date) FROM user_days WHERE school_id = schools.id))::text AS records_from
    FROM schools WHERE id = ANY(${keys}::bigint[])
  `.execute(db);
  return rows.rows;
}

export async function personSources(db: DbOrTrx, keys: readonly string[]): Promise<PersonSource[]> {
  return db.selectFrom('users').select(['id', 'school_id', 'name', 'badge', 'enrolled_on', 'deleted_at'])
    .where(sql<boolean>`id = ANY(${keys}::bigint[])`).execute();
}

export async function attendanceDaySources(db: DbOrTrx, keys: readonly string[]): Promise<AttendanceDaySource[]> {
  const users = keys.map((k) => k.slice(0, k.indexOf(':')));
  const dates = keys.map((k) => k.slice(k.indexOf(':') + 1));
  const rows = await sql<AttendanceDaySource>`
    SELECT ud.user_id::text || ':' || to_char(ud.date, 'YYYY-MM-DD') AS key, ud.user_id, ud.school_id, ud.date, ud.seconds,
      ud.first_checkin_at, ud.open_since, ud.anomalies, s.timezone, to_char(s.day_end, 'HH24:MI') AS day_end,
      ud.date < (now() AT TIME ZONE s.timezone)::date AS ended, to_char(s.late_after, 'HH24:MI') AS late_after,
      coalesce(s.records_from, (SELECT min(date) FROM user_days WHERE school_id = s.id))::text AS records_from,
      ud.mark, ud.mark_reason, ud.mark_conflict,
      coalesce((SELECT array_agg(m.author_kind || ':' || coalesce(st.email, dv.name, '?') ORDER BY m.id) FROM marks m
        LEFT JOIN staff st ON st.id = m.staff_id LEFT JOIN devices dv ON dv.id = m.device_id
        WHERE m.user_id = ud.user_id AND m.date = ud.date), '{}') AS marked_by,
      c.n AS corrections, c.authors AS corrected_by
    FROM unnest(${users}::bigint[], ${dates}::date[]) AS k(user_id, date)
    -- LATERAL keeps one primary-key probe per key (a plain join may hash the whole table, see user-days.ts).
    CROSS JOIN LATERAL (SELECT * FROM user_days x WHERE x.user_id = k.user_id AND x.date = k.date) ud
    JOIN schools s ON s.id = ud.school_id
    -- Corrections of the day (rows entered by staff), less withdrawn ones and the withdrawals.
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n, coalesce(array_agg(DISTINCT coalesce(st.email, '?')) FILTER (WHERE a.id IS NOT NULL), '{}') AS authors
      FROM attendances a LEFT JOIN staff st ON st.id = a.created_by
      WHERE a.user_id = ud.user_id AND a.device_id IS NULL AND a.cancels_id IS NULL AND a.reason IS NOT NULL
        AND a.occurred_at >= (ud.date::timestamp AT TIME ZONE s.timezone) AND a.occurred_at < ((ud.date + 1)::timestamp AT TIME ZONE s.timezone)
        AND NOT EXISTS (SELECT 1 FROM attendances w WHERE w.cancels_id = a.id)
    ) c
  `.execute(db);
  return rows.rows;
}

export interface CollectedRecord {
  key: string;
  fields: Record<string, unknown>;
}

/**
 * Writes upserts into the export table. A record is rewritten (and so becomes pending) only
 * when what it says changed, or when `force` (a run over a window asked for re-sends it).
 */
export async function storeUpserts(trx: Trx, entity: DatamartEntityName, runId: number, records: readonly CollectedRecord[], force: boolean): Promise<number> {
  if (records.length === 0) return 0;
  const result = await sql`
    INSERT INTO datamart_records AS d (entity, key, operation, fields, collected_run_id, collected_at)
    SELECT ${entity}, t.k, 'upsert', t.f::jsonb, ${runId}, now()
    FROM unnest(${records.map((r) => r.key)}::text[], ${records.map((r) => JSON.stringify(r.fields))}::text[]) AS t(k, f)
    ON CONFLICT (entity, key) DO UPDATE SET
      operation = 'upsert', fields = EXCLUDED.fields, version = d.version + 1,
      collected_run_id = EXCLUDED.collected_run_id, collected_at = EXCLUDED.collected_at
    WHERE ${force} OR d.operation <> 'upsert' OR d.fields IS DISTINCT FROM EXCLUDED.fields
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Keys whose product row is gone. A record the mart never received is simply dropped; any
 * other becomes a pending delete carrying its primary key.
 */
export async function storeDeletes(trx: Trx, entity: DatamartEntityName, runId: number, records: readonly CollectedRecord[], force: boolean): Promise<number> {
  if (records.length === 0) return 0;
  const keys = records.map((r) => r.key);
  await sql`
    DELETE FROM datamart_records WHERE entity = ${entity} AND key = ANY(${keys}::text[]) AND sent_version IS NULL AND sent_upload_id IS NULL
  `.execute(trx);
  const result = await sql`
    UPDATE datamart_records d SET operation = 'delete', fields = t.f::jsonb, version = d.version + 1,
      collected_run_id = ${runId}, collected_at = now()
    FROM unnest(${keys}::text[], ${records.map((r) => JSON.stringify(r.fields))}::text[]) AS t(k, f)
    WHERE d.entity = ${entity} AND d.key = t.k AND (${force} OR d.operation <> 'delete')
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

export interface PendingRecord {
  key: string;
  version: number;
  fields: Record<string, unknown>;
}

/** The next pending records of one entity and operation, in key order. */
export async function pendingRecords(db: DbOrTrx, entity: DatamartEntityName, operation: DatamartOperation, afterKey: string | null, limit: number): Promise<PendingRecord[]> {
  let q = db.selectFrom('datamart_records').select(['key', 'version', 'fields'])
    .where('entity', '=', entity).where('operation', '=', operation)
    .where(sql<boolean>`sent_version IS DISTINCT FROM version`);
  if (afterKey !== null) q = q.where('key', '>', afterKey);
  return q.orderBy('key').limit(limit).execute();
}

/** The versions an upload carried are sent; a record collected again meanwhile stays pending. */
export async function markSent(trx: Trx, entity: DatamartEntityName, uploadId: number, records: readonly PendingRecord[]): Promise<void> {
  if (records.length === 0) return;
  await sql`
    UPDATE datamart_records d SET sent_version = t.v, sent_upload_id = ${uploadId}
    FROM unnest(${records.map((r) => r.key)}::text[], ${records.map((r) => r.version)}::int[]) AS t(k, v)
    WHERE d.entity = ${entity} AND d.key = t.k AND d.version = t.v
  `.execute(trx);
}

/** The mart refused the file: its records are pending again, for the next run. */
export async function unsendUpload(db: DbOrTrx, uploadId: number): Promise<number> {
  const result = await db.updateTable('datamart_records').set({ sent_version: null }).where('sent_upload_id', '=', uploadId).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function pendingCount(db: DbOrTrx): Promise<number> {
  const row = await sql<{ n: number }>`SELECT count(*)::int AS n FROM datamart_records WHERE sent_version IS DISTINCT FROM version`.execute(db);
  return row.rows[0].n;
}
