// A pupil who forgot to check out leaves an open user-day. Figures already count it up to
// day_end, but the stored row (seconds, `missing_checkout`, what exports read) is only final
// once recomputed after the day is over: this job does that, in batches, every hour.
import { lockUsersForFigures, openPastDays, recomputeDays, schoolClocks } from '../../db/repositories/user-days.js';
import type { WorkerContext } from '../context/context.js';

const BATCH = 2_000;
/** Bounds one run; the next hourly run goes on where this one stopped. */
const MAX_BATCHES = 100;

export async function closeOpenDays(ctx: Pick<WorkerContext, 'db' | 'logger'>, now = new Date()): Promise<{ closed: number }> {
  let closed = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const done = await ctx.db.transaction().execute(async (trx) => {
      const days = await openPastDays(trx, now, BATCH);
      if (days.length === 0) return 0;
      await lockUsersForFigures(trx, days.map((d) => d.userId));
      const clocks = await schoolClocks(trx, [...new Set(days.map((d) => d.schoolId))]);
      await recomputeDays(trx, days, clocks, now);
      return days.length;
    });
    closed += done;
    if (done < BATCH) break;
  }
  if (closed > 0) ctx.logger.info({ closed }, 'closed past user-days left open');
  return { closed };
}
