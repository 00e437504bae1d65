// One data mart run: fix the window, collect every entity (referenced ones first), then
// export upserts in that order and deletes in the reverse one, so the mart never holds a
// row whose parent is missing. The first failure ends the run; nothing is lost, since
// records stay pending and a failed collect does not move the next run's window.
import {
  createRun, finishRun, isRunRunning, requestedWindow, runCollected, startRun,
} from '../../db/repositories/datamart-runs.js';
import { fixWindow } from '../../db/repositories/datamart-records.js';
import { ENTITIES } from '../../shared/datamart/entities.js';
import type { WorkerContext } from '../context/context.js';
import { collectEntity } from './collect.js';
import { exportEntity } from './export.js';
import { uploaderClient, type UploaderClient } from './uploader-client.js';

export interface RunOutcome {
  runId: number | null;
  status: 'done' | 'failed' | 'skipped';
  error?: string;
}

/** Runs a queued run (POST /api/datamart/runs), or a new scheduled one when no run is given. */
export async function runDatamart(ctx: WorkerContext, runId: number | null, client?: UploaderClient): Promise<RunOutcome> {
  const { db, logger } = ctx;
  let id: number;
  if (runId === null) {
    const created = await createRun(db, { trigger: 'schedule', requestedBy: null, status: 'running' });
    if (!created) {
      logger.info('data mart run skipped: another run is queued or running');
      return { runId: null, status: 'skipped' };
    }
    id = created.id;
  } else {
    if (!(await startRun(db, runId))) return { runId, status: 'skipped' };
    id = runId;
  }
  const uploader = client ?? uploaderClient(ctx.config.datamart, ctx.config.dataDir, logger);
  try {
    const run = await requestedWindow(db, id);
    const window = await db.transaction().execute((trx) => fixWindow(trx, id));
    // A window asked for re-sends what changed in it, even rows the mart already holds as they are.
    const force = run.requested_from !== null || run.requested_to !== null;
    logger.info({ runId: id, window }, 'data mart run started');
    let seq = 0;
    for (const spec of ENTITIES) await collectEntity(ctx, { id, force }, ++seq, spec.name);
    await runCollected(db, id);
    for (const spec of ENTITIES) await exportEntity(ctx, uploader, id, ++seq, spec.name, 'upsert');
    for (const spec of [...ENTITIES].reverse()) await exportEntity(ctx, uploader, id, ++seq, spec.name, 'delete');
    if (!(await finishRun(db, id, null)) && !(await isRunRunning(db, id))) return { runId: id, status: 'failed', error: 'failed by the stuck sweep' };
    logger.info({ runId: id }, 'data mart run done');
    return { runId: id, status: 'done' };
  } catch (err) {
    const message = (err as Error).message;
    logger.error({ runId: id, err: message }, 'data mart run failed');
    await finishRun(db, id, message);
    return { runId: id, status: 'failed', error: message };
  }
}
