// One chunk of a figure rebuild: every user-day of one school over at most a week,
// recomputed from the attendances and counted in the rebuild's progress in one transaction.
import { chunkDone } from '../../db/repositories/rebuilds.js';
import { daysInRange, lockUsersForFigures, recomputeDays, schoolClock } from '../../db/repositories/user-days.js';
import type { RebuildChunkJob } from '../../shared/jobs.js';
import type { WorkerContext } from '../context/context.js';

const RECOMPUTE_CHUNK = 5_000;

export async function rebuildChunk(ctx: WorkerContext, job: RebuildChunkJob, now = new Date()): Promise<{ days: number; changed: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    const clock = await schoolClock(trx, job.school_id);
    if (!clock) return { days: 0, changed: 0 };
    const days = await daysInRange(trx, job.school_id, clock.timezone, job.from, job.to);
    await lockUsersForFigures(trx, days.map((d) => d.userId), job.school_id);
    const clocks = new Map([[job.school_id, clock]]);
    let changed = 0;
    for (let i = 0; i < days.length; i += RECOMPUTE_CHUNK) {
      changed += await recomputeDays(trx, days.slice(i, i + RECOMPUTE_CHUNK), clocks, now);
    }
    await chunkDone(trx, job.school_id, job.rebuild_id, job.from, changed);
    return { days: days.length, changed };
  });
}
