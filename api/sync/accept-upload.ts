// Accepting a batch (docs/protocol/v4.md §3.3): structure check, then in ONE statement (so one
// transaction) the session and its archive with the 0→1 flip — or nothing at all. The pending
// session row is the import's durable queue entry: a worker claims it (worker/import/session-queue.ts),
// so "stored durably with its job in one transaction" (§8) is this one commit.
//
// Statements per accepted upload: one, when the device is enabled, has no pending flag and its
// channel is idle (the common upload: the archive is checked first against the files required
// without flags); otherwise a read (device, flags, state), the archive checked against what the
// flags require, and the write. Every upload used to cost twelve, then five (BEGIN, the write, a
// pg-boss job, a NOTIFY, COMMIT), then two.
import { randomUUID } from 'node:crypto';
import { channelOf } from '../../channels/registry.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import type { Db } from '../../db/database.js';
import { readState, readUploadStart, storeSessionAndStart, storeSessionIfClear, type ChannelState } from '../../db/repositories/sync.js';
import { sha256 } from '../../shared/archive/hash.js';
import { inspectArchive, looksLikeZip, uploadLimits } from '../../shared/archive/inspect-archive.js';
import type { Config } from '../../shared/config.js';
import { Problem } from '../../shared/errors.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import { inactiveDevice } from '../http/authenticate.js';
import type { BacklogGauge } from '../context/backlog.js';
import { wantedFiles } from './manifest.js';

export interface Accepted {
  session_id: string;
  /** 1, or for a retry the session's current status (1 or 2). */
  status: number;
  /** True when these bytes had already been accepted (a retry after a lost response). */
  retry: boolean;
}

/** Required files are XML of a few hundred bytes (device.xml is refused above 64 KiB anyway). */
const REQUIRED_FILE_CHECK_BYTES = 256 * 1024;

type State = Pick<ChannelState, 'status' | 'session_id' | 'archive_sha256'> | null | undefined;

export async function acceptUpload(
  deps: { db: Db; config: Config; backlog: BacklogGauge },
  schoolId: number, deviceId: string, channel: ChannelName, archive: Buffer,
): Promise<Accepted> {
  const { db, backlog } = deps;
  // The common upload, in one statement: checked against the files required without flags, and
  // stored only if the device has none pending, is enabled and its channel idle. Anything else
  // (a fault in the archive included, so that an inactive device is answered as such first) takes
  // the way that reads first.
  let hashWithoutFlags: string | null = null;
  if (looksLikeZip(archive) && !(await backlog.full())) {
    try {
      hashWithoutFlags = checkedHash(deps.config, channel, [], archive);
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
    }
  }
  if (hashWithoutFlags) {
    const sessionId = randomUUID();
    if (await storeSessionIfClear(db, { id: sessionId, school_id: schoolId, device_id: deviceId, channel, archive, archive_sha256: hashWithoutFlags })) {
      backlog.accepted();
      return { session_id: sessionId, status: SYNC_STATUS.processing, retry: false };
    }
  }
  return acceptAfterReading(deps, schoolId, deviceId, channel, archive, hashWithoutFlags);
}

/** The archive checked against what the flags require (its structure, small required files inflated): its hash, or the archive's problem thrown. */
function checkedHash(config: Config, channel: ChannelName, flags: readonly { name: string }[], archive: Buffer): string {
  const required = wantedFiles(channel, flags).filter((f) => f.required).map((f) => f.name);
  const contents = inspectArchive(archive, { channel: channelOf(channel).upload, required, limits: uploadLimits(config) });
  // A required file whose data fails its CRC or its declared size is not the batch the device
  // meant to send: 400 archive_corrupt, nothing stored, the device sends it again
  // (docs/PROTOCOL-READING.md). Only small entries are inflated here; the worker reads the rest.
  for (const entry of contents.entries) {
    if (required.includes(entry.name) && entry.size <= REQUIRED_FILE_CHECK_BYTES) contents.read(entry.name);
  }
  return sha256(archive);
}

/**
 * Any upload: the device, its flags and the channel's state read first, then the archive checked
 * and stored. `hashWithoutFlags`: the archive already passed the check without flags (the way
 * above), which stands when the device has none.
 */
async function acceptAfterReading(
  deps: { db: Db; config: Config; backlog: BacklogGauge },
  schoolId: number, deviceId: string, channel: ChannelName, archive: Buffer, hashWithoutFlags: string | null,
): Promise<Accepted> {
  const { db, config, backlog } = deps;
  const start = await readUploadStart(db, schoolId, deviceId, channel);
  if (!start || start.disabled) throw inactiveDevice();
  if (!looksLikeZip(archive)) throw new Problem('unsupported_media_type', 'The uploaded file is not a zip archive');
  const hash = hashWithoutFlags !== null && start.flags.length === 0 ? hashWithoutFlags : checkedHash(config, channel, start.flags, archive);

  const isRetryOf = (s: State) => s && s.status !== SYNC_STATUS.idle && s.archive_sha256 === hash && s.session_id;
  const { state } = start;
  if (isRetryOf(state)) return { session_id: state!.session_id!, status: state!.status, retry: true };
  if (state && state.status !== SYNC_STATUS.idle) throw inProgress(state.status, state.session_id);

  // IMPORT_MAX_PENDING is the most batches waiting at once: at the limit, this one would exceed it.
  if (await backlog.full()) {
    throw new Problem('server_busy', 'The import backlog is full; nothing was stored', { retry_after: config.importRetryAfterSeconds },
      { 'Retry-After': String(config.importRetryAfterSeconds) });
  }

  const sessionId = randomUUID();
  const won = await storeSessionAndStart(db, { id: sessionId, school_id: schoolId, device_id: deviceId, channel, archive, archive_sha256: hash });
  if (!won) {
    // Another upload won between our read and our flip: it may be these very bytes.
    const now = await readState(db, schoolId, deviceId, channel);
    if (isRetryOf(now)) return { session_id: now!.session_id!, status: now!.status, retry: true };
    throw inProgress(now?.status ?? SYNC_STATUS.processing, now?.session_id ?? null);
  }
  backlog.accepted();
  return { session_id: sessionId, status: SYNC_STATUS.processing, retry: false };
}

function inProgress(status: number, sessionId: string | null): Problem {
  return new Problem('sync_in_progress', 'A batch is already being processed on this channel: finish that sync first', { status, session_id: sessionId });
}
