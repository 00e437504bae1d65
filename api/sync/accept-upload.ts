// Accepting a batch (PROTOCOL.md §3.3): structure check, then in ONE transaction the session
// and its archive, the 0→1 flip and the pg-boss job — or nothing at all.
import { channelOf, type ChannelName } from '../../channels/registry.js';
import type { Db } from '../../db/database.js';
import { notifyJobSent } from '../../db/job-notifications.js';
import { inTransaction, type PgBoss } from '../../db/queue.js';
import { pendingFlags } from '../../db/repositories/flags.js';
import { ensureState, insertSession, pendingImports, readState, startProcessing } from '../../db/repositories/sync.js';
import { sha256 } from '../../shared/archive/hash.js';
import { inspectArchive, looksLikeZip } from '../../shared/archive/inspect-archive.js';
import type { Config } from '../../shared/config.js';
import { Problem } from '../../shared/errors.js';
import { QUEUES, type ImportBatchJob } from '../../shared/jobs.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import { wantedFiles } from './manifest.js';

export interface Accepted {
  session_id: string;
  /** 1, or for a retry the session's current status (1 or 2). */
  status: number;
  /** True when these bytes had already been accepted (a retry after a lost response). */
  retry: boolean;
}

class LostRace extends Error {}

export async function acceptUpload(deps: { db: Db; boss: PgBoss; config: Config }, deviceId: string, channel: ChannelName, archive: Buffer): Promise<Accepted> {
  const { db, boss, config } = deps;
  if (!looksLikeZip(archive)) throw new Problem('unsupported_media_type', 'The uploaded file is not a zip archive');
  const flags = await pendingFlags(db, deviceId);
  inspectArchive(archive, {
    channel: channelOf(channel).upload,
    required: wantedFiles(channel, flags).filter((f) => f.required).map((f) => f.name),
    limits: {
      maxEntries: config.archiveMaxEntries,
      maxTotalUncompressed: config.archiveMaxUncompressedBytes,
      maxEntryUncompressed: config.archiveMaxUncompressedBytes,
      maxRatio: config.archiveMaxRatio,
    },
  });
  const hash = sha256(archive);

  const state = await readState(db, deviceId, channel);
  const isRetryOf = (s: typeof state) => s && s.status !== SYNC_STATUS.idle && s.archive_sha256 === hash && s.session_id;
  if (isRetryOf(state)) return { session_id: state!.session_id!, status: state!.status, retry: true };
  if (state && state.status !== SYNC_STATUS.idle) throw inProgress(state.status, state.session_id);

  // IMPORT_MAX_PENDING is the most batches waiting at once: at the limit, this one would exceed it.
  if ((await pendingImports(db, config.importMaxPending)) >= config.importMaxPending) {
    throw new Problem('server_busy', 'The import backlog is full; nothing was stored', { retry_after: config.importRetryAfterSeconds },
      { 'Retry-After': String(config.importRetryAfterSeconds) });
  }

  try {
    const sessionId = await db.transaction().execute(async (trx) => {
      await ensureState(trx, deviceId, channel);
      const session = await insertSession(trx, { device_id: deviceId, channel, archive, archive_sha256: hash });
      if (!(await startProcessing(trx, deviceId, channel, session.id))) throw new LostRace();
      const job: ImportBatchJob = { session_id: session.id };
      const jobId = await boss.send(QUEUES.importBatch, job, { db: inTransaction(trx) });
      await notifyJobSent(trx, QUEUES.importBatch);
      await trx.updateTable('sync_sessions').set({ job_id: jobId }).where('id', '=', session.id).execute();
      await trx.updateTable('devices').set({ last_seen_at: new Date() }).where('id', '=', deviceId).execute();
      return session.id;
    });
    return { session_id: sessionId, status: 1, retry: false };
  } catch (err) {
    if (!(err instanceof LostRace)) throw err;
    // Another upload won between our read and our update: it may be these very bytes.
    const now = await readState(db, deviceId, channel);
    if (isRetryOf(now)) return { session_id: now!.session_id!, status: now!.status, retry: true };
    throw inProgress(now?.status ?? SYNC_STATUS.processing, now?.session_id ?? null);
  }
}

function inProgress(status: number, sessionId: string | null): Problem {
  return new Problem('sync_in_progress', 'A batch is already being processed on this channel: finish that sync first', { status, session_id: sessionId });
}
