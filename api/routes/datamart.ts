// The regional data mart export, for backoffice staff: runs with their stages, sub-stages,
// row counts, uploads and errors, and starting a run now (optionally over a given window).
import { z } from 'zod';
import { sendInTransaction } from '../../db/queue.js';
import {
  createRun, findRunSummary, instantsOrdered, listRuns, runStages, runSubstages, runUploads, type RunSummary,
} from '../../db/repositories/datamart-runs.js';
import { Problem, orNotFound, validationFailed } from '../../shared/errors.js';
import { QUEUES, type DatamartRunJob } from '../../shared/jobs.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors, idParam, isoInstant, pageOf, timestamp } from '../schemas/common.js';

const ENTITY = z.enum(['schools', 'persons', 'attendance_days']);
const OPERATION = z.enum(['upsert', 'delete']);
const STEP_STATUS = z.enum(['running', 'done', 'failed']);
const micros = z.string().meta({ format: 'date-time', description: 'ISO 8601 instant, to the microsecond' });

export const runSchema = z.object({
  id: z.number().int(),
  trigger: z.enum(['schedule', 'manual']),
  requested_by: z.number().int().nullable(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  requested_window: z.object({ from: micros.nullable(), to: micros.nullable() }).nullable().describe('The window asked for, if any'),
  window: z.object({ from: micros.nullable(), to: micros.nullable() })
    .describe('The half-open window [from, to) collected; from is null on the first run, both null until the run starts'),
  rows_collected: z.number().int(),
  rows_exported: z.number().int(),
  uploads: z.object({ processing: z.number().int(), accepted: z.number().int(), rejected: z.number().int(), failed: z.number().int() }),
  error: z.string().nullable(),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  collected_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
}).meta({ id: 'DatamartRun' });

export const substageSchema = z.object({
  id: z.number().int(), seq: z.number().int(), status: STEP_STATUS, rows: z.number().int(),
  started_at: timestamp, finished_at: timestamp.nullable(), error: z.string().nullable(),
});

export const stageSchema = z.object({
  id: z.number().int(), seq: z.number().int(), kind: z.enum(['collect', 'export']), entity: ENTITY, operation: OPERATION.nullable(),
  status: STEP_STATUS, rows: z.number().int(), started_at: timestamp, finished_at: timestamp.nullable(), error: z.string().nullable(),
  substages: z.array(substageSchema).describe('Collect: one per chunk of DATAMART_COLLECT_CHUNK_SIZE keys; export: one per file'),
});

export const uploadSchema = z.object({
  id: z.number().int(), substage_id: z.number().int(), entity: ENTITY, operation: OPERATION, file_name: z.string(),
  rows: z.number().int(), bytes: z.number().int(), remote_id: z.string().nullable().describe("The mart's upload_id; null when emulated or never taken"),
  status: z.enum(['processing', 'accepted', 'rejected', 'failed']).describe('failed: the uploader never took the file'),
  errors: z.array(z.unknown()), attempts: z.number().int(),
  created_at: timestamp, checked_at: timestamp.nullable(), finished_at: timestamp.nullable(),
});

export const runDetailSchema = runSchema.extend({ stages: z.array(stageSchema), uploads: z.array(uploadSchema) }).meta({ id: 'DatamartRunDetail' });

function presentRun(r: RunSummary) {
  return {
    id: r.id, trigger: r.trigger, requested_by: r.requested_by, status: r.status,
    requested_window: r.requested_from === null && r.requested_to === null ? null : { from: r.requested_from, to: r.requested_to },
    window: { from: r.window_from, to: r.window_to },
    rows_collected: r.rows_collected, rows_exported: r.rows_exported,
    uploads: { processing: r.uploads_processing, accepted: r.uploads_accepted, rejected: r.uploads_rejected, failed: r.uploads_failed },
    error: r.error, created_at: r.created_at, started_at: r.started_at, collected_at: r.collected_at, finished_at: r.finished_at,
  };
}

export function datamartRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/datamart/runs', summary: 'Data mart export runs, newest first', tags: ['datamart'], auth: 'backoffice',
    query: z.object(pageQuery),
    responses: { 200: { description: 'A page of runs', schema: pageOf(runSchema) }, ...errors(401, 403, 422) },
    async handler({ query, db }) {
      const before = decodeCursor(query.cursor, z.object({ id: z.number().int() }));
      const rows = await listRuns(db, { beforeId: before?.id ?? null, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (r) => ({ id: r.id }));
      return reply.ok({ ...page, items: page.items.map(presentRun) });
    },
  });

  api.add({
    method: 'get', path: '/api/datamart/runs/:id', summary: 'One data mart run: stages, sub-stages, uploads and errors', tags: ['datamart'], auth: 'backoffice',
    params: idParam,
    responses: { 200: { description: 'The run', schema: runDetailSchema }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      const run = orNotFound(await findRunSummary(db, params.id), 'data mart run');
      const [stages, substages, uploads] = await Promise.all([runStages(db, run.id), runSubstages(db, run.id), runUploads(db, run.id)]);
      return reply.ok({
        ...presentRun(run),
        stages: stages.map((s) => ({
          id: s.id, seq: s.seq, kind: s.kind, entity: s.entity, operation: s.operation, status: s.status, rows: s.rows,
          started_at: s.started_at, finished_at: s.finished_at, error: s.error,
          substages: substages.filter((ss) => ss.stage_id === s.id).map((ss) => ({
            id: ss.id, seq: ss.seq, status: ss.status, rows: ss.rows, started_at: ss.started_at, finished_at: ss.finished_at, error: ss.error,
          })),
        })),
        uploads: uploads.map((u) => ({
          id: u.id, substage_id: u.substage_id, entity: u.entity, operation: u.operation, file_name: u.file_name, rows: u.rows, bytes: u.bytes,
          remote_id: u.remote_id, status: u.status, errors: u.errors, attempts: u.attempts,
          created_at: u.created_at, checked_at: u.checked_at, finished_at: u.finished_at,
        })),
      });
    },
  });

  api.add({
    method: 'post', path: '/api/datamart/runs', summary: 'Start a data mart run now, optionally over a given window [from, to)', tags: ['datamart'], auth: 'backoffice',
    body: z.object({
      from: isoInstant.optional().describe('Default: where the last collected window ended'),
      to: isoInstant.optional().describe('Default: now (never later than the oldest transaction still open)'),
    }).default({}),
    responses: { 202: { description: 'Queued; follow it at /api/datamart/runs/{id}', schema: runSchema }, ...errors(401, 403, 409, 422) },
    async handler({ body, db: trx, auth, ctx }) {
      if (ctx.config.datamart.url === null && !ctx.config.datamart.emulation) {
        throw new Problem('datamart_not_configured', 'No data mart is configured: set DATAMART_URL (or DATAMART_EMULATION=on)');
      }
      if (body.from !== undefined && body.to !== undefined && !(await instantsOrdered(trx, body.from, body.to))) {
        throw validationFailed([{ field: 'body.to', message: 'must be after from' }]);
      }
      const run = await createRun(trx, { trigger: 'manual', requestedBy: auth.staffId, status: 'queued', from: body.from ?? null, to: body.to ?? null });
      if (!run) throw new Problem('datamart_run_in_progress', 'Another data mart run is queued or running: wait for it to finish');
      // The job commits with the run: a queued run always has its job.
      const job: DatamartRunJob = { run_id: run.id };
      await sendInTransaction(ctx.boss, trx, QUEUES.datamartRun, job);
      return reply.accepted(presentRun((await findRunSummary(trx, run.id))!), { Location: `/api/datamart/runs/${run.id}` });
    },
  });
}
