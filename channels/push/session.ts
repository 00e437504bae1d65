// The import of PUSH sessions. An ATTLOG upload stores its session in one statement; the pending
// session is the queue entry. Each worker looks for pending PUSH sessions every PUSH_IMPORT_TICK_MS
// and, when it finds some, makes sure one import job waits (pg-boss queue `import-push`, policy
// `short`: at most one waiting, so a burst of uploads makes one job); that job takes every
// pending PUSH session, a few hundred per transaction (channels/push/import-attlog.ts). Uploads
// insert no job and NOTIFY nothing, so they never wait for one another. A job is sent (or found
// waiting) after the session's commit and picked up after that: no session is left behind. A
// PUSH session has no status flag or package — its `OK` was the acknowledgement — so once its
// rows are in, it is finished as imported and acknowledged, and its terminal's health updated:
// last sync, clock skew from a real-time punch, and "complete up to" its arrival (a terminal in
// real-time mode sends every punch it holds).
import type { Db, Trx } from '../../db/database.js';
import { PUSH_IMPORT_KEY, type PgBoss } from '../../db/queue.js';
import { countFailedAttempt, failPushSession, pickPendingPushSessions, pushSessionsPending, pushSessionOrigin } from '../../db/repositories/push-punches.js';
import { QUEUES } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { CLOCK_SUSPECT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import { importAttlogSessions, type PushImportResult } from './import-attlog.js';

/** How often a worker looks for pending PUSH sessions (one indexed EXISTS): the import's added delay at most. */
export const PUSH_IMPORT_TICK_MS = 250;

/** Sessions per transaction at most, and their archives' bytes (a resync's big batch goes alone). */
const SESSIONS_PER_IMPORT = 500;
const BYTES_PER_IMPORT = 8 * 1024 * 1024;

/** One session, in the caller's transaction (an import-batch job queued before PUSH sessions had their own queue). */
export async function importPushSession(input: { trx: Trx; logger: Logger; session: { id: string; device_id: string; received_at: Date; archive: Buffer } }): Promise<void> {
  const session = { ...input.session, ...(await pushSessionOrigin(input.trx, input.session.id)) };
  warnSkews(input.logger, await importAttlogSessions(input.trx, [session]));
}

/**
 * The import job: every PUSH session pending now, in transactions of up to SESSIONS_PER_IMPORT.
 * A transaction that fails is done again one session per transaction, so that one batch that
 * cannot be imported holds back no other; it is failed (shown to staff) after `maxAttempts`.
 * Answers the sessions imported.
 */
export async function importPendingPushSessions(db: Db, logger: Logger, opts: { maxAttempts: number }): Promise<{ imported: number; failed: number }> {
  let imported = 0;
  let failed = 0;
  for (;;) {
    let picked: string[] = [];
    try {
      const results = await db.transaction().execute(async (trx) => {
        const sessions = await pickPendingPushSessions(trx, { limit: SESSIONS_PER_IMPORT, maxBytes: BYTES_PER_IMPORT });
        picked = sessions.map((s) => s.id);
        return importAttlogSessions(trx, sessions);
      });
      warnSkews(logger, results);
      imported += results.length;
    } catch (err) {
      if (picked.length === 0) throw err;
      logger.warn({ err: (err as Error).message, sessions: picked.length }, 'push: import of pending sessions failed; importing them one by one');
      for (const id of picked) {
        const outcome = await importOne(db, logger, id, opts.maxAttempts);
        if (outcome === 'imported') imported++;
        if (outcome === 'failed') failed++;
      }
    }
    if (picked.length < SESSIONS_PER_IMPORT) return { imported, failed };
  }
}

async function importOne(db: Db, logger: Logger, sessionId: string, maxAttempts: number): Promise<'imported' | 'failed' | 'left'> {
  try {
    const results = await db.transaction().execute(async (trx) => {
      const sessions = (await pickPendingPushSessions(trx, { limit: SESSIONS_PER_IMPORT, maxBytes: 0, only: sessionId }));
      return importAttlogSessions(trx, sessions);
    });
    warnSkews(logger, results);
    return results.length > 0 ? 'imported' : 'left';
  } catch (err) {
    const attempts = await countFailedAttempt(db, sessionId);
    logger.error({ err, sessionId, attempts }, 'push: session import failed');
    if (attempts < maxAttempts) return 'left';
    await failPushSession(db, sessionId, `import failed ${attempts} times: ${(err as Error).message}`);
    return 'failed';
  }
}

/**
 * The worker's side: every PUSH_IMPORT_TICK_MS, and at each `poke()` (the job listener
 * (re)connecting, drain()), the import job is sent if PUSH sessions wait and no job does. Pokes
 * during a check make one more check after it, so each is followed by a check that began after it.
 */
export function pushImportTrigger(db: Db, boss: PgBoss, logger: Logger, onSent: () => void): { poke(): void; stop(): Promise<void> } {
  let checking: Promise<void> | null = null;
  let again = false;
  const check = async (): Promise<void> => {
    do {
      again = false;
      try {
        if (await pushSessionsPending(db) && await boss.send(QUEUES.importPush, {}, { singletonKey: PUSH_IMPORT_KEY })) onSent();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'push: pending sessions not checked (next tick)');
      }
    } while (again);
    checking = null;
  };
  const poke = () => {
    if (checking) again = true;
    else checking = check();
  };
  const timer = setInterval(poke, PUSH_IMPORT_TICK_MS);
  timer.unref();
  return {
    poke,
    async stop() {
      clearInterval(timer);
      await checking;
    },
  };
}

function warnSkews(logger: Logger, results: readonly PushImportResult[]): void {
  for (const r of results) {
    if (r.clockSkewSeconds !== null && Math.abs(r.clockSkewSeconds) > CLOCK_SUSPECT_SKEW_SECONDS) {
      logger.warn({ sessionId: r.sessionId, skew: r.clockSkewSeconds }, 'push: terminal clock off');
    }
  }
}
