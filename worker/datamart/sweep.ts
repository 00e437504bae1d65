// The stuck sweep: any run, stage or sub-stage running longer than
// DATAMART_STAGE_TIMEOUT_MINUTES is failed (a worker died or hangs), so the next run can start.
import { failStuck, type SweepOutcome } from '../../db/repositories/datamart-runs.js';
import type { WorkerContext } from '../context/context.js';

export async function sweepStuckStages(ctx: WorkerContext): Promise<SweepOutcome> {
  const out = await ctx.db.transaction().execute((trx) => failStuck(trx, ctx.config.datamart.stageTimeoutMinutes));
  if (out.runs.length + out.stages.length + out.substages.length > 0) ctx.logger.warn(out, 'data mart: stuck steps failed');
  return out;
}
