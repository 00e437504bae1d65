// The stuck-session sweep (docs/protocol/v4.md §8): a session in status 1 that has waited longer than
// SYNC_STUCK_AFTER_SECONDS gets the processing_failed package, so the device is never blocked.
// A v4 session is its own queue entry (worker/import/session-queue.ts); one that still names a
// pg-boss job (sent before that, or by hand) is failed when its job failed for good, and handed
// to the queue when its job is gone.
import { processingSessions, setSessionJob } from '../../db/repositories/sweep.js';
import { QUEUES } from '../../shared/jobs.js';
import { FAILED_DETAIL, failSession } from '../import/import-session.js';
import type { WorkerContext } from '../context.js';

const LIVE = new Set(['created', 'retry', 'active']);

export interface SweepResult {
  /** Sessions whose pg-boss job was lost, handed to the import queue. */
  resent: string[];
  failed: string[];
}

export async function sweepSessions(ctx: WorkerContext, now = new Date()): Promise<SweepResult> {
  const result: SweepResult = { resent: [], failed: [] };
  for (const s of await processingSessions(ctx.db, QUEUES.importBatch)) {
    const stuck = now.getTime() - s.received_at.getTime() > ctx.config.syncStuckAfterSeconds * 1000;
    if ((s.job_id !== null && (s.job_state === 'failed' || s.job_state === 'cancelled')) || stuck) {
      const detail = stuck ? FAILED_DETAIL.stuck(ctx.config.syncStuckAfterSeconds) : FAILED_DETAIL.jobFailed();
      if (await failSession(ctx, s.id, stuck ? 'stuck in status 1 too long' : `import job ${s.job_state}`, detail)) result.failed.push(s.id);
    } else if (s.job_id !== null && (s.job_state === null || !LIVE.has(s.job_state))) {
      // Lost: deleted by retention, or completed without the session being processed.
      await setSessionJob(ctx.db, s.id, null);
      ctx.logger.warn({ sessionId: s.id, previousJob: s.job_id, state: s.job_state }, 'import job lost: the session is left to the import queue');
      result.resent.push(s.id);
    }
  }
  return result;
}
