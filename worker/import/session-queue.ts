// The v4 import queue: a pending session row (processed_at null) is the import's durable queue
// entry, committed with the upload's 0→1 flip in one statement (api/sync/accept-upload.ts).
// WORKER_CONCURRENCY lanes each run one import transaction at a time, and each transaction
// starts by claiming the oldest due session with FOR UPDATE SKIP LOCKED (claimSession): no
// pg-boss job is sent, fetched or completed per upload, which was three writes to pgboss.job and
// two commits of every sync (issue #21). What pg-boss gave, kept:
// - a crashed worker: its transaction dies with its connection, the row lock goes, and the
//   session is claimed again at once (pg-boss waited for the heartbeat to stop);
// - retries with backoff: a failed attempt rolls back, then `recordFailedAttempt` counts it and
//   sets `retry_at` (RETRY_DELAY_SECONDS doubled per attempt, as pg-boss's retryDelay 5 with backoff);
//   after IMPORT_RETRY_LIMIT retries the session gets the processing_failed package (§5). The
//   other lanes skip it until that is recorded; another worker (or a claim already under way)
//   may try it once more meanwhile, which costs an attempt, never a row (each attempt is one
//   transaction under the row lock);
// - a session that never gets through (a crash every time) is failed by the stuck sweep after
//   SYNC_STUCK_AFTER_SECONDS, as a session whose job never ran was.
// Lanes with nothing to do wait; while one waits, one cheap probe (`importsDue`) runs every
// IDLE_PROBE_MS and wakes one, which wakes the next when its claim saw more due. Under load the lanes never wait, so the probe costs nothing;
// an upload is picked up within IDLE_PROBE_MS otherwise. Uploads NOTIFY nothing: PostgreSQL
// serializes notifying commits, which PUSH measured as the wall of its uploads.
import { failSession, importSession, type ImportOutcome } from './import-session.js';
import { importsDue, recordFailedAttempt } from '../../db/repositories/import-session.js';
import { countFailedSession, measureImport } from '../metrics.js';
import type { WorkerContext } from '../context.js';
import { QUEUES } from '../../shared/jobs.js';

/** How often an idle worker looks for a due session: the pick-up delay of an upload at most. */
export const IDLE_PROBE_MS = 50;
/** The wait after a first failed attempt, doubled after each further one (pg-boss's retryDelay for import-batch). */
export const RETRY_DELAY_SECONDS = 5;
/** The longest wait between two attempts, however many there were. */
const MAX_RETRY_DELAY_SECONDS = 300;

export interface ImportQueue {
  /** A session may be due: idle lanes claim now. */
  wake(): void;
  /** Lanes stop claiming; imports in hand finish. */
  stop(): Promise<void>;
}

export function retryDelaySeconds(failedAttempts: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, RETRY_DELAY_SECONDS * 2 ** Math.max(0, failedAttempts - 1));
}

export function startImportQueue(ctx: WorkerContext, opts: { concurrency: number }): ImportQueue {
  const { config, logger } = ctx;
  let running = true;
  const waiting = new Set<() => void>();
  const wakeAll = () => {
    for (const w of [...waiting]) w();
  };
  // A wake-up while every lane was busy: the next lane to finish claims again before waiting.
  let woken = false;
  /**
   * One idle lane claims; it wakes the next when its claim saw another session due, so a
   * backlog takes every lane and a single upload costs one claim, not one per lane.
   */
  const wakeOne = () => {
    const [first] = waiting;
    if (first) first();
    else woken = true;
  };
  const idle = () => new Promise<void>((resolve) => {
    if (woken || !running) {
      woken = false;
      resolve();
      return;
    }
    const done = () => { waiting.delete(done); resolve(); };
    waiting.add(done);
  });
  /**
   * Sessions a lane has claimed, until imported or until its failed attempt is recorded: the
   * other lanes' claims skip them, since after a rollback the row lock no longer does.
   */
  const inHand = new Set<string>();
  let probing = false;
  const probe = setInterval(() => {
    if (waiting.size === 0 || probing) return;
    probing = true;
    importsDue(ctx.db).then((due) => { if (due) wakeOne(); }, (err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'import queue: probe failed (next tick)');
    }).finally(() => { probing = false; });
  }, IDLE_PROBE_MS);
  probe.unref();

  /** One import transaction: true when a session was claimed (done or failed), false when none was due. */
  const importNext = async (): Promise<boolean> => {
    const started = Date.now();
    let claimed: { id: string; attempts: number; moreDue: boolean } | null = null;
    try {
      const outcome: ImportOutcome = await measureImport(
        () => (claimed?.attempts ?? 1) - 1,
        (note) => importSession(ctx, null, note, (c) => { claimed = c; inHand.add(c.id); if (c.moreDue && waiting.size > 0) wakeOne(); }, inHand),
      );
      if (claimed) inHand.delete((claimed as { id: string }).id);
      if (outcome === 'none') return false;
      // The same line as a pg-boss job's, for the logs' readers (bench, tests).
      logger.info({ queue: QUEUES.importBatch, sessionId: claimed!.id, ms: Date.now() - started }, 'job done');
      return true;
    } catch (err) {
      if (claimed === null) {
        // Failed before claiming anything (the database gone): wait as if idle.
        logger.warn({ err: (err as Error).message }, 'import queue: claim failed; retrying');
        await new Promise((r) => setTimeout(r, IDLE_PROBE_MS * 10));
        return false;
      }
      const failed = claimed as { id: string; attempts: number; moreDue: boolean };
      logger.error({ queue: QUEUES.importBatch, sessionId: failed.id, ms: Date.now() - started, err }, 'job failed');
      // Between the rollback and the recorded retry_at, another lane would claim it again at once.
      try {
        await afterFailure(failed);
      } finally {
        inHand.delete(failed.id);
      }
      return true;
    }
  };

  /** Counts the failed attempt; gives up with processing_failed once the retries are spent. */
  const afterFailure = async ({ id, attempts }: { id: string; attempts: number }): Promise<void> => {
    try {
      // The claim's count rolled back with the attempt: `attempts` is this attempt's number.
      const counted = await recordFailedAttempt(ctx.db, id, retryDelaySeconds(attempts));
      if (counted !== undefined && counted > config.importRetryLimit) {
        countFailedSession(await failSession(ctx, id, 'import failed after all retries'));
      }
    } catch (err) {
      // The failure could not be counted (database gone): the session stays pending and is claimed again.
      logger.error({ sessionId: id, err: (err as Error).message }, 'import queue: failed attempt not recorded');
    }
  };

  const lane = async () => {
    while (running) {
      if (!(await importNext())) await idle();
    }
  };
  const lanes = Array.from({ length: opts.concurrency }, () => lane());

  return {
    wake: wakeOne,
    async stop() {
      running = false;
      clearInterval(probe);
      wakeAll();
      await Promise.all(lanes);
    },
  };
}
