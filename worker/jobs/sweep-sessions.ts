// The stuck-session sweep (docs/protocol/v4.md §8): a session in status 1 that has waited longer than
// SYNC_STUCK_AFTER_SECONDS gets the processing_failed package, so the device is never blocked.
// A session is its own import's queue entry (worker/import/session-queue.ts), retried and given
// up there; this catches what the queue could not finish in time (no worker running, a backlog).
import { stuckSessions } from '../../db/repositories/sweep.js';
import { FAILED_DETAIL, failSession } from '../import/import-session.js';
import type { WorkerContext } from '../context/context.js';

export interface SweepResult {
  failed: string[];
}

export async function sweepSessions(ctx: WorkerContext): Promise<SweepResult> {
  const result: SweepResult = { failed: [] };
  const seconds = ctx.config.syncStuckAfterSeconds;
  for (const s of await stuckSessions(ctx.db, seconds)) {
    if (await failSession(ctx, s.id, 'stuck in status 1 too long', FAILED_DETAIL.stuck(seconds))) result.failed.push(s.id);
  }
  return result;
}
