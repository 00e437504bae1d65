// The import queue of every upload, v4 and PUSH: a pending session row (processed_at null) is
// the import's durable queue entry, committed with the upload in one statement
// (api/sync/accept-upload.ts, api/push). WORKER_CONCURRENCY lanes each run one import at a
// time. An import is two steps: the claim (claimNextImport), one statement committed on its own,
// takes the oldest due session with FOR UPDATE SKIP LOCKED — with it, when it was never tried,
// the other untried due sessions of its kind (up to V4_GROUP v4 sessions, PUSH_BATCH PUSH
// ones), a session tried before alone — counts each one's attempt and puts its next try off by
// this attempt's backoff; then one transaction locks the claimed rows (lockClaimedSessions,
// lockClaimedPushSessions) and imports them. No pg-boss job is sent,
// fetched or completed per upload, which was three writes to pgboss.job and two commits of every
// sync (issue #21); PUSH uploads no longer wake a worker through a job either (issue #26).
// What pg-boss gave, kept:
// - a crashed worker: its transaction dies with its connection, the row locks go, and the
//   sessions are claimed again once their backoff has passed (at once when the attempt ran longer);
// - retries with backoff, one policy for both kinds: a failed attempt rolls back, then
//   `recordFailedAttempt` sets `retry_at` from the failure (RETRY_DELAY_SECONDS doubled per
//   attempt, at most MAX_RETRY_DELAY_SECONDS) and keeps the error in `failure`; after
//   IMPORT_RETRY_LIMIT retries the session is given up: a v4 session gets the processing_failed
//   package (§5), a PUSH session is finished failed (shown in its terminal's sessions). A PUSH
//   batch whose transaction fails is imported again one session per transaction within the same
//   attempt, so one bad session holds back no other; a PUSH session tried before is claimed
//   alone. The other lanes skip a session until its failure is recorded; another worker may try
//   it once more meanwhile, which costs an attempt, never a row (each attempt is one transaction
//   under the row lock);
// - a batch that kills its worker every time (issue #33: out of memory five times in 17 minutes):
//   the claim counted each attempt before the work began, so a claim that finds the attempts
//   spent (more than 1 + IMPORT_RETRY_LIMIT) gives the session up instead of importing it
//   again. Before, the count rolled back with the dead attempt and the batch was retried for
//   ever; the stuck sweep, waiting on the row lock, died with the worker each time.
// Lanes with nothing to do wait; while one waits, one cheap probe (`importsDue`) runs every
// IDLE_PROBE_MS and wakes one, which wakes the next when its claim saw more due. Under load the
// lanes never wait, so the probe costs nothing; an upload is picked up within IDLE_PROBE_MS
// otherwise. Uploads NOTIFY nothing: PostgreSQL serializes notifying commits, which PUSH
// measured as the wall of its uploads. The job listener's (re)connection and drain() wake the
// lanes too (worker/jobs/index.ts `wake`).
import { FAILED_DETAIL, failSession, importSessions } from './import-session.js';
import { claimNextImport, importsDue, recordFailedAttempt, type ClaimLimit, type ImportClaim, type QueueClaim } from '../../db/repositories/import-session.js';
import { failPushSession } from '../../db/repositories/push-punches.js';
import { importClaimedPushSessions, PUSH_BATCH, type PushImportOutcome } from '../../channels/push/session.js';
import { countFailedSession, measureImports } from './import-metrics.js';
import type { WorkerContext } from '../context/context.js';
import { IMPORT_QUEUE } from '../../shared/jobs.js';

/** How often an idle worker looks for a due session: the pick-up delay of an upload at most. */
export const IDLE_PROBE_MS = 50;
/** The wait after a first failed attempt, doubled after each further one (what pg-boss's retryDelay for import-batch was). */
export const RETRY_DELAY_SECONDS = 5;
/** The longest wait between two attempts, however many there were. */
const MAX_RETRY_DELAY_SECONDS = 300;
/**
 * v4 sessions due together, never tried, are claimed and imported together, up to this many
 * and this many bytes of archives (a scheduled sync's are a few KiB): one transaction for
 * several scheduled syncs at a fleet's peak, one for one when they come one at a time. A batch
 * of more than 64 KiB (some thousands of rows) is imported alone: in groups, the 50,000-row
 * batches of the ingest bench went four to a transaction, and one lane imported the last
 * four while the others idled (issue #31).
 */
export const V4_GROUP: ClaimLimit = { limit: 8, maxBytes: 1024 * 1024, eachMaxBytes: 64 * 1024 };

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
  /**
   * One PUSH batch at a time per worker, as when a pg-boss job took them: PUSH sessions arriving
   * meanwhile wait and go together in the next batch. Each lane claiming its own small batch
   * (4 lanes, a probe every 50 ms) cost 3-4 times the worker's and PostgreSQL's CPU at 10,000
   * terminals (npm run bench -- push), for no gain in delay.
   */
  let pushInFlight = false;
  /** And a PUSH session waits this long before a batch takes it: the 250 ms tick of the PUSH import job this queue replaced. */
  const PUSH_GATHER_MS = 250;
  let probing = false;
  const probe = setInterval(() => {
    if (waiting.size === 0 || probing) return;
    probing = true;
    importsDue(ctx.db, { push: !pushInFlight, pushGatherMs: PUSH_GATHER_MS }).then((due) => { if (due) wakeOne(); }, (err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'import queue: probe failed (next tick)');
    }).finally(() => { probing = false; });
  }, IDLE_PROBE_MS);
  probe.unref();

  /** One claim and its import: true when something was claimed (imported, failed or given up), false when nothing was due. */
  const importNext = async (): Promise<boolean> => {
    let claimed: ImportClaim | undefined;
    // Taken before the claim's await, so that two lanes never both claim a PUSH batch.
    const takePush = !pushInFlight;
    if (takePush) pushInFlight = true;
    try {
      claimed = await claimNextImport(ctx.db, { skip: inHand, baseDelaySeconds: RETRY_DELAY_SECONDS, maxDelaySeconds: MAX_RETRY_DELAY_SECONDS, pushBatch: PUSH_BATCH, v4Group: V4_GROUP, takePush, pushGatherMs: PUSH_GATHER_MS });
    } catch (err) {
      if (takePush) pushInFlight = false;
      // The database gone: wait as if idle.
      logger.warn({ err: (err as Error).message }, 'import queue: claim failed; retrying');
      await new Promise((r) => setTimeout(r, IDLE_PROBE_MS * 10));
      return false;
    }
    if (takePush && !claimed?.push) pushInFlight = false;
    if (!claimed) return false;
    const ids = claimed.sessions.map((x) => x.id);
    for (const id of ids) inHand.add(id);
    if (claimed.moreDue && waiting.size > 0) wakeOne();
    try {
      if (claimed.push) await importPush(claimed.sessions);
      else await importV4(claimed.sessions);
    } finally {
      for (const id of ids) inHand.delete(id);
      if (claimed.push) pushInFlight = false;
    }
    return true;
  };

  /**
   * v4 sessions claimed together, imported in one transaction (worker/import/import-session.ts);
   * when that fails, each is imported again alone within the same attempt, so one bad batch
   * holds back no other, and each one that fails on its own records its attempt's back-off. A
   * session claimed past its last attempt (a worker died during each) is given up unimported.
   */
  const importV4 = async (claims: readonly QueueClaim[]): Promise<void> => {
    const spent = claims.filter((x) => x.attempts > config.importRetryLimit + 1);
    for (const x of spent) await giveUp(x);
    const todo = claims.filter((x) => !spent.includes(x));
    if (todo.length > 1) {
      const started = Date.now();
      try {
        await measureImports(todo.map((x) => ({ id: x.id, retried: x.attempts > 1 })), (note) => importSessions(ctx, todo, note));
        for (const x of todo) logger.debug({ queue: IMPORT_QUEUE, sessionId: x.id, group: todo.length, ms: Date.now() - started }, 'job done');
        return;
      } catch (err) {
        logger.warn({ queue: IMPORT_QUEUE, sessions: todo.length, err: (err as Error).message }, 'import queue: a group failed; importing its sessions one by one');
      }
    }
    for (const x of todo) await importAlone(x);
  };

  const importAlone = async (claim: QueueClaim): Promise<void> => {
    const started = Date.now();
    try {
      await measureImports([{ id: claim.id, retried: claim.attempts > 1 }], (note) => importSessions(ctx, [claim], note));
      // The same line as a pg-boss job's, for the logs' readers (bench, tests).
      logger.debug({ queue: IMPORT_QUEUE, sessionId: claim.id, ms: Date.now() - started }, 'job done');
    } catch (err) {
      logger.error({ queue: IMPORT_QUEUE, sessionId: claim.id, ms: Date.now() - started, err }, 'job failed');
      // Between the rollback and the recorded retry_at, another lane could claim it again (when the attempt outlasted its backoff).
      await afterFailure(claim, err, (reason, counted) => failSession(ctx, claim.id, reason, FAILED_DETAIL.retriesExhausted(counted)));
    }
  };

  /**
   * PUSH sessions imported together (channels/push/session.ts); a batch that fails is imported
   * again one session per transaction, and each session that failed on its own records its
   * attempt's back-off, or is failed (shown to staff) once its retries are spent. A session
   * claimed past its last attempt (a worker died during each) is given up without importing it.
   */
  const importPush = async (sessions: ReadonlyArray<{ id: string; attempts: number }>): Promise<void> => {
    const started = Date.now();
    const spent = sessions.filter((x) => x.attempts > config.importRetryLimit + 1);
    for (const x of spent) await giveUp(x, true);
    const todo = sessions.filter((x) => !spent.includes(x));
    if (todo.length === 0) return;
    let outcome: PushImportOutcome;
    try {
      outcome = await importClaimedPushSessions(ctx.db, logger, todo.map((x) => x.id));
    } catch (err) {
      // Not even the one-by-one imports ran (the database gone): every session's attempt failed.
      outcome = { imported: 0, failed: todo.map((x) => ({ id: x.id, err })) };
    }
    logger.debug({ queue: IMPORT_QUEUE, channel: 'push', sessions: todo.length, imported: outcome.imported, failed: outcome.failed.length, ms: Date.now() - started }, 'push import done');
    for (const { id, err } of outcome.failed) {
      const claim = todo.find((x) => x.id === id)!;
      logger.error({ queue: IMPORT_QUEUE, channel: 'push', sessionId: id, attempts: claim.attempts, err }, 'push: session import failed');
      await afterFailure(claim, err, (reason) => failPushSession(ctx.db, id, reason));
    }
  };

  /** Records the failed attempt's backoff; gives up (`fail`) once the retries are spent. */
  const afterFailure = async ({ id, attempts }: { id: string; attempts: number }, err: unknown, fail: (reason: string, counted: number) => Promise<boolean>): Promise<void> => {
    try {
      const counted = await recordFailedAttempt(ctx.db, id, retryDelaySeconds(attempts), `attempt ${attempts}: ${(err as Error)?.message ?? String(err)}`);
      if (counted !== undefined && counted > config.importRetryLimit) {
        countFailedSession(await fail(`import failed after all retries: ${(err as Error)?.message ?? String(err)}`, counted));
      }
    } catch (recordErr) {
      // The failure could not be recorded (database gone): the session stays pending and is claimed again after its backoff.
      logger.error({ sessionId: id, err: (recordErr as Error).message }, 'import queue: failed attempt not recorded');
    }
  };

  /**
   * A claim past the last attempt: every earlier one was claimed and never finished nor
   * recorded a failure, i.e. the worker died during each (out of memory, killed).
   */
  const giveUp = async ({ id, attempts }: { id: string; attempts: number }, push = false): Promise<void> => {
    const made = attempts - 1;
    logger.error({ queue: IMPORT_QUEUE, sessionId: id, attempts: made }, 'import queue: every attempt stopped without finishing; the batch is given up');
    const reason = `the import stopped ${made} times without finishing (the worker died during each attempt)`;
    try {
      countFailedSession(push ? await failPushSession(ctx.db, id, reason) : await failSession(ctx, id, reason, FAILED_DETAIL.crashed(made, config.batchMaxRows)));
    } catch (err) {
      logger.error({ sessionId: id, err: (err as Error).message }, 'import queue: giving up the session failed; the next claim tries again');
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
