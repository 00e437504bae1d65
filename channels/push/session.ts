// The import of PUSH sessions. An ATTLOG upload stores its session in one statement; the pending
// session is the queue entry, in the one import queue every session goes through
// (worker/import/session-queue.ts): a claim takes the untried pending PUSH sessions, a few
// hundred at a time (PUSH_BATCH), counts their attempt and commits, then one transaction imports
// them set-based (channels/push/import-attlog.ts). Uploads insert no job and NOTIFY nothing, so
// they never wait for one another. A PUSH session has no status flag or package — its `OK` was
// the acknowledgement — so once its rows are in, it is finished as imported and acknowledged,
// and its terminal's health updated: last sync, clock skew from a real-time punch, and
// "complete up to" its arrival (a terminal in real-time mode sends every punch it holds).
import type { Db } from '../../db/database.js';
import { lockClaimedPushSessions } from '../../db/repositories/push-punches.js';
import type { Logger } from '../../shared/logger.js';
import { CLOCK_SUSPECT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import { importAttlogSessions, type PushImportResult } from './import-attlog.js';

/** Sessions per claim and transaction at most, and their archives' bytes (a resync's big batch goes alone). */
export const PUSH_BATCH = { limit: 500, maxBytes: 8 * 1024 * 1024 } as const;

/** What became of the PUSH sessions of one claim: imported, or failed with the error of their own transaction. */
export interface PushImportOutcome {
  imported: number;
  failed: Array<{ id: string; err: unknown }>;
}

/**
 * The import of the PUSH sessions one claim took (`ids`, their attempt already counted), in one
 * transaction. When it fails, each session is imported again in a transaction of its own,
 * within the same attempt, so one that cannot be imported holds back no other; the caller
 * records the failures (back-off, give-up: worker/import/session-queue.ts). Sessions processed
 * since the claim are skipped.
 */
export async function importClaimedPushSessions(db: Db, logger: Logger, ids: readonly string[]): Promise<PushImportOutcome> {
  try {
    return { imported: await importLocked(db, logger, ids), failed: [] };
  } catch (err) {
    if (ids.length === 1) return { imported: 0, failed: [{ id: ids[0], err }] };
    logger.warn({ err: (err as Error).message, sessions: ids.length }, 'push: import of claimed sessions failed; importing them one by one');
  }
  const outcome: PushImportOutcome = { imported: 0, failed: [] };
  for (const id of ids) {
    try {
      outcome.imported += await importLocked(db, logger, [id]);
    } catch (err) {
      outcome.failed.push({ id, err });
    }
  }
  return outcome;
}

async function importLocked(db: Db, logger: Logger, ids: readonly string[]): Promise<number> {
  const results = await db.transaction().execute(async (trx) => importAttlogSessions(trx, await lockClaimedPushSessions(trx, ids)));
  warnSkews(logger, results);
  return results.length;
}

function warnSkews(logger: Logger, results: readonly PushImportResult[]): void {
  for (const r of results) {
    if (r.clockSkewSeconds !== null && Math.abs(r.clockSkewSeconds) > CLOCK_SUSPECT_SKEW_SECONDS) {
      logger.warn({ sessionId: r.sessionId, skew: r.clockSkewSeconds }, 'push: terminal clock off');
    }
  }
}
