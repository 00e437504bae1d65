// Data mart export runs, their stages, sub-stages and uploads: what the worker records as it
// goes and what GET /api/datamart/runs shows. Every transition out of `running` is
// conditional, so a step the stuck sweep already failed is never marked done afterwards.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type {
  DatamartEntityName, DatamartOperation, DatamartRun, DatamartStage, DatamartSubstage, DatamartUpload, DatamartUploadStatus,
} from '../schema/index.js';
import { isoMicros } from './datamart-records.js';

export interface RunRequest {
  trigger: 'schedule' | 'manual';
  requestedBy: number | null;
  status: 'queued' | 'running';
  /** ISO instants, kept as text so microseconds survive. */
  from?: string | null;
  to?: string | null;
}

/** The window a run was asked for (both null for a scheduled run). */
export async function requestedWindow(db: DbOrTrx, runId: number): Promise<Pick<DatamartRun, 'requested_from' | 'requested_to'>> {
  return db.selectFrom('datamart_runs').select(['requested_from', 'requested_to']).where('id', '=', runId).executeTakeFirstOrThrow();
}

/** A new run, or undefined when another one is queued or running (one at a time). */
export async function createRun(db: DbOrTrx, r: RunRequest): Promise<DatamartRun | undefined> {
  const row = await sql<DatamartRun>`
    INSERT INTO datamart_runs (trigger, requested_by, status, requested_from, requested_to, started_at)
    VALUES (${r.trigger}, ${r.requestedBy}, ${r.status}, ${r.from ?? null}::timestamptz, ${r.to ?? null}::timestamptz,
            ${r.status === 'running' ? sql`now()` : sql`NULL`})
    ON CONFLICT ((true)) WHERE status IN ('queued', 'running') DO NOTHING
    RETURNING *
  `.execute(db);
  return row.rows[0];
}

/** Whether `from` is strictly before `to`, compared by PostgreSQL to the microsecond. */
export async function instantsOrdered(db: DbOrTrx, from: string, to: string): Promise<boolean> {
  const row = await sql<{ ok: boolean }>`SELECT ${from}::timestamptz < ${to}::timestamptz AS ok`.execute(db);
  return row.rows[0].ok;
}

/** A queued run is taken by the worker; false when it is gone or no longer queued (swept). */
export async function startRun(db: DbOrTrx, runId: number): Promise<boolean> {
  const r = await db.updateTable('datamart_runs').set({ status: 'running', started_at: sql<Date>`now()` })
    .where('id', '=', runId).where('status', '=', 'queued').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function runCollected(db: DbOrTrx, runId: number): Promise<void> {
  await db.updateTable('datamart_runs').set({ collected_at: sql<Date>`now()` }).where('id', '=', runId).where('status', '=', 'running').execute();
}

export async function finishRun(db: DbOrTrx, runId: number, error: string | null): Promise<boolean> {
  const r = await db.updateTable('datamart_runs').set({ status: error === null ? 'done' : 'failed', error, finished_at: sql<Date>`now()` })
    .where('id', '=', runId).where('status', 'in', ['queued', 'running']).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function isRunRunning(db: DbOrTrx, runId: number): Promise<boolean> {
  const row = await db.selectFrom('datamart_runs').select('status').where('id', '=', runId).executeTakeFirst();
  return row?.status === 'running';
}

export async function openStage(db: DbOrTrx, s: { runId: number; seq: number; kind: 'collect' | 'export'; entity: DatamartEntityName; operation: DatamartOperation | null }): Promise<number> {
  const row = await db.insertInto('datamart_stages')
    .values({ run_id: s.runId, seq: s.seq, kind: s.kind, entity: s.entity, operation: s.operation, status: 'running' })
    .returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function closeStage(db: DbOrTrx, stageId: number, rows: number, error: string | null): Promise<boolean> {
  const r = await db.updateTable('datamart_stages')
    .set({ status: error === null ? 'done' : 'failed', rows, error, finished_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', stageId).where('status', '=', 'running').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function openSubstage(db: DbOrTrx, stageId: number, seq: number): Promise<number> {
  const row = await db.insertInto('datamart_substages').values({ stage_id: stageId, seq, status: 'running' }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** False when the sub-stage is no longer running (the sweep failed it): the caller must give up. */
export async function closeSubstage(db: DbOrTrx, substageId: number, rows: number, error: string | null): Promise<boolean> {
  const r = await db.updateTable('datamart_substages')
    .set({ status: error === null ? 'done' : 'failed', rows, error, finished_at: sql<Date>`clock_timestamp()` })
    .where('id', '=', substageId).where('status', '=', 'running').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface NewUpload {
  runId: number;
  substageId: number;
  entity: DatamartEntityName;
  operation: DatamartOperation;
  fileName: string;
  rows: number;
  bytes: number;
  remoteId: string | null;
  status: DatamartUploadStatus;
  errors: unknown[];
  attempts: number;
}

export async function recordUpload(trx: Trx, u: NewUpload): Promise<number> {
  const finished = u.status === 'processing' ? null : sql<Date>`now()`;
  const row = await trx.insertInto('datamart_uploads').values({
    run_id: u.runId, substage_id: u.substageId, entity: u.entity, operation: u.operation, file_name: u.fileName, rows: u.rows,
    bytes: u.bytes, remote_id: u.remoteId, status: u.status, errors: JSON.stringify(u.errors), attempts: u.attempts, finished_at: finished,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function processingUploads(db: DbOrTrx, limit: number): Promise<DatamartUpload[]> {
  return db.selectFrom('datamart_uploads').selectAll().where('status', '=', 'processing').where('remote_id', 'is not', null)
    .orderBy('id').limit(limit).execute();
}

/** The mart's verdict; only an upload still processing moves. */
export async function settleUpload(db: DbOrTrx, uploadId: number, status: DatamartUploadStatus, errors: unknown[]): Promise<boolean> {
  const r = await db.updateTable('datamart_uploads')
    .set({ status, errors: JSON.stringify(errors), checked_at: sql<Date>`now()`, finished_at: status === 'processing' ? null : sql<Date>`now()` })
    .where('id', '=', uploadId).where('status', '=', 'processing').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function uploadChecked(db: DbOrTrx, uploadId: number, errors: unknown[]): Promise<void> {
  await db.updateTable('datamart_uploads').set({ checked_at: sql<Date>`now()`, errors: JSON.stringify(errors) }).where('id', '=', uploadId).execute();
}

export interface SweepOutcome {
  runs: number[];
  stages: number[];
  substages: number[];
}

/**
 * Fails every run, stage and sub-stage running (or queued) longer than the timeout, and the
 * running steps under a failed one, so a worker that died half-way never blocks the next run.
 */
export async function failStuck(trx: Trx, timeoutMinutes: number): Promise<SweepOutcome> {
  const message = `stuck: running longer than ${timeoutMinutes} minutes`;
  const cutoff = sql`now() - make_interval(mins => ${timeoutMinutes})`;
  const runs = await sql<{ id: number }>`
    UPDATE datamart_runs SET status = 'failed', error = ${message}, finished_at = now()
    WHERE status IN ('queued', 'running') AND coalesce(started_at, created_at) < ${cutoff} RETURNING id
  `.execute(trx);
  const stages = await sql<{ id: number }>`
    UPDATE datamart_stages st SET status = 'failed', error = ${message}, finished_at = clock_timestamp()
    WHERE st.status = 'running'
      AND (st.started_at < ${cutoff} OR EXISTS (SELECT 1 FROM datamart_runs r WHERE r.id = st.run_id AND r.status = 'failed'))
    RETURNING id
  `.execute(trx);
  const substages = await sql<{ id: number }>`
    UPDATE datamart_substages ss SET status = 'failed', error = ${message}, finished_at = clock_timestamp()
    WHERE ss.status = 'running'
      AND (ss.started_at < ${cutoff} OR EXISTS (SELECT 1 FROM datamart_stages st WHERE st.id = ss.stage_id AND st.status = 'failed'))
    RETURNING id
  `.execute(trx);
  // A run whose step was failed cannot finish well either.
  const more = await sql<{ id: number }>`
    UPDATE datamart_runs r SET status = 'failed', error = ${message}, finished_at = now()
    WHERE r.status = 'running' AND EXISTS (SELECT 1 FROM datamart_stages st WHERE st.run_id = r.id AND st.id = ANY(${stages.rows.map((s) => s.id)}::bigint[]))
    RETURNING id
  `.execute(trx);
  // The key list of a collect stage that died half-way is of no further use.
  await sql`DELETE FROM datamart_collect_keys WHERE stage_id = ANY(${stages.rows.map((s) => s.id)}::bigint[])`.execute(trx);
  return {
    runs: [...runs.rows, ...more.rows].map((r) => Number(r.id)),
    stages: stages.rows.map((r) => Number(r.id)),
    substages: substages.rows.map((r) => Number(r.id)),
  };
}

// --- views for the API -------------------------------------------------------------------

export interface RunSummary extends Omit<DatamartRun, 'window_from' | 'window_to' | 'requested_from' | 'requested_to' | 'xid_from' | 'xid_to'> {
  window_from: string | null;
  window_to: string | null;
  requested_from: string | null;
  requested_to: string | null;
  rows_collected: number;
  rows_exported: number;
  uploads_processing: number;
  uploads_accepted: number;
  uploads_rejected: number;
  uploads_failed: number;
}

function summaries(db: DbOrTrx) {
  return db.selectFrom('datamart_runs as r').select([
    'r.id', 'r.trigger', 'r.requested_by', 'r.status', 'r.collected_at', 'r.created_at', 'r.started_at', 'r.finished_at', 'r.error',
    isoMicros(sql.ref('r.window_from')).as('window_from'),
    isoMicros(sql.ref('r.window_to')).as('window_to'),
    isoMicros(sql.ref('r.requested_from')).as('requested_from'),
    isoMicros(sql.ref('r.requested_to')).as('requested_to'),
    sql<number>`(SELECT coalesce(sum(rows), 0)::int FROM datamart_stages WHERE run_id = r.id AND kind = 'collect')`.as('rows_collected'),
    sql<number>`(SELECT coalesce(sum(rows), 0)::int FROM datamart_stages WHERE run_id = r.id AND kind = 'export')`.as('rows_exported'),
    sql<number>`(SELECT count(*)::int FROM datamart_uploads WHERE run_id = r.id AND status = 'processing')`.as('uploads_processing'),
    sql<number>`(SELECT count(*)::int FROM datamart_uploads WHERE run_id = r.id AND status = 'accepted')`.as('uploads_accepted'),
    sql<number>`(SELECT count(*)::int FROM datamart_uploads WHERE run_id = r.id AND status = 'rejected')`.as('uploads_rejected'),
    sql<number>`(SELECT count(*)::int FROM datamart_uploads WHERE run_id = r.id AND status = 'failed')`.as('uploads_failed'),
  ]);
}

/** Newest first, keyset on id. */
export async function listRuns(db: DbOrTrx, opts: { beforeId: number | null; limit: number }): Promise<RunSummary[]> {
  let q = summaries(db);
  if (opts.beforeId !== null) q = q.where('r.id', '<', opts.beforeId);
  return q.orderBy('r.id', 'desc').limit(opts.limit).execute();
}

export async function findRunSummary(db: DbOrTrx, id: number): Promise<RunSummary | undefined> {
  return summaries(db).where('r.id', '=', id).executeTakeFirst();
}

export async function runStages(db: DbOrTrx, runId: number): Promise<DatamartStage[]> {
  return db.selectFrom('datamart_stages').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
}

export async function runSubstages(db: DbOrTrx, runId: number): Promise<DatamartSubstage[]> {
  return db.selectFrom('datamart_substages as ss').innerJoin('datamart_stages as st', 'st.id', 'ss.stage_id')
    .selectAll('ss').where('st.run_id', '=', runId).orderBy('ss.stage_id').orderBy('ss.seq').execute();
}

export async function runUploads(db: DbOrTrx, runId: number): Promise<DatamartUpload[]> {
  return db.selectFrom('datamart_uploads').selectAll().where('run_id', '=', runId).orderBy('id').execute();
}
