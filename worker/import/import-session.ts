// Imports accepted batches in ONE transaction (docs/protocol/v4.md §8): each batch's files, the
// high-water marks, rejections, fever events, the touched user-days, the instruction package
// and the 1→2 flip all commit together, or nothing does and the import is tried again. The same
// for every channel: what differs comes from its importer (channels/importers.ts). In steps:
// lock, open each batch, each channel's import, the user-days they touched (one recompute for
// all), then per batch assemblePackage (pure) and finish.
// Several batches at once (a group the queue claimed: worker/import/session-queue.ts) share the
// transaction's BEGIN, lock, user-days recompute and COMMIT, which were half of the statements
// and every WAL flush of a scheduled sync's import (issue #31); a batch's rows, package and flip
// are its own, as alone.
import { CHANNEL_UPLOADS } from '../../channels/registry.js';
import { importerOf } from '../../channels/importers.js';
import { emptyParts, type ImportContext } from '../../channels/kit/context.js';
import { readEntry } from '../../channels/kit/read-entry.js';
import type { AfterReady } from '../../channels/kit/importer.js';
import { TouchedDays } from '../../shared/attendance/touched-days.js';
import type { Db, Trx } from '../../db/database.js';
import { finishImport, lockClaimedSessions, lockSession, recordDeviceReport, type QueueClaim } from '../../db/repositories/import-session.js';
import { finishSession, markReady } from '../../db/repositories/sync.js';
import { recomputeTouchedDays } from '../../db/repositories/user-days.js';
import { sha256 } from '../../shared/archive/hash.js';
import { archiveLimits, inspectArchive } from '../../shared/archive/inspect-archive.js';
import { buildZip } from '../../shared/archive/build-zip.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { isChannelName, type ChannelName } from '../../shared/protocol/channels.js';
import { CLOCK_SUSPECT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import type { InstructionPackage } from '../../shared/protocol/instruction-package.js';
import { buildInstructionsXml } from '../../shared/xml/instructions-xml.js';
import { parseDeviceXml, type DeviceReport } from '../../shared/xml/device-xml.js';
import { assemblePackage, packageZip } from './assemble-package.js';
import { sessionRejectionPages } from '../../db/repositories/batch-import.js';

/** Rejections read back per statement while a package is written from the table. */
const REJECTION_PAGE = 10_000;

export type ImportOutcome = 'imported' | 'already_processed' | 'not_current';

type Deps = { db: Db; config: Config; logger: Logger };
type Claimed = Awaited<ReturnType<typeof lockClaimedSessions>>[number];

/** A session locked for its import, with what it needs checked present. */
interface LoadedSession {
  session: Claimed['session'];
  channel: ChannelName;
  archive: Buffer;
  device: Claimed['device'];
  school: Claimed['school'];
}

/** The batch opened for its importer: the context it fills, and the clock skew device.xml gave. */
interface OpenedBatch {
  ctx: ImportContext;
  skewSeconds: number | null;
}

/**
 * What the worker's metrics count of an imported batch (worker/import/import-metrics.ts), taken from the
 * import itself once it committed, instead of reading the session back (one statement less per sync).
 */
export interface ImportedFigures {
  channel: string;
  stats: Record<string, { accepted: number; duplicates: number; rejected: number }>;
  /** Seconds from the upload's acceptance to the commit (status 2). */
  readySeconds: number;
  rejections: Record<string, number>;
}

/**
 * Imports v4 sessions the import queue claimed (worker/import/session-queue.ts: the claim, their
 * attempts counted, committed before this) in one transaction, and answers each one's outcome;
 * `onImported` gets the figures of each imported batch once it committed. A session processed
 * or reset since the claim is `already_processed`. Any failure rolls every one of them back.
 * PUSH sessions have their own import (channels/push/session.ts).
 */
export async function importSessions(deps: Deps, targets: readonly QueueClaim[], onImported?: (sessionId: string, figures: ImportedFigures) => void): Promise<Map<string, ImportOutcome>> {
  const outcomes = new Map<string, ImportOutcome>(targets.map((t) => [t.id, 'already_processed']));
  const noted: Array<{ id: string; figures: Omit<ImportedFigures, 'readySeconds'>; receivedAt: Date }> = [];
  await deps.db.transaction().execute(async (trx) => {
    const batches = (await lockClaimedSessions(trx, targets.map((t) => t.id))).map((locked) => openBatch(trx, loaded(locked), deps));
    for (const { ctx } of batches) {
      await importerOf(ctx.session.channel).import(ctx);
      // Its bytes (megabytes for a large batch) are not read again, unless a pending flag has the
      // package count rows of a RESEND window (channels/kit/flags.ts): they go before the figures.
      if (ctx.device.hasPendingFlags === false) ctx.archive.release();
    }
    // Figures: the user-days these batches touched, in this same transaction (docs/protocol/v4.md §8).
    await recomputeTouchedDays(trx, touchedBy(batches), batches[0]?.ctx.now);
    for (const batch of batches) {
      const { ctx, skewSeconds } = batch;
      const afterReady = await importerOf(ctx.session.channel).buildPackage?.(ctx);
      const pkg = assemblePackage({ sessionId: ctx.session.id, now: ctx.now, skewSeconds, out: ctx.out });
      const result = await finish(trx, batch, pkg, afterReady);
      outcomes.set(ctx.session.id, result);
      if (result === 'imported') {
        noted.push({ id: ctx.session.id, figures: { channel: ctx.session.channel, stats: Object.fromEntries(ctx.out.imports), rejections: ctx.out.rejectionCounts }, receivedAt: ctx.session.receivedAt });
      }
    }
  });
  for (const { id, figures, receivedAt } of noted) onImported?.(id, { ...figures, readySeconds: Math.max(0, (Date.now() - receivedAt.getTime()) / 1000) });
  return outcomes;
}

/** Step 1: a locked session, with what it needs checked present. */
function loaded({ session, device, school }: Claimed): LoadedSession {
  if (session.archive && isChannelName(session.channel)) return { session, channel: session.channel, archive: session.archive, device, school };
  throw new Error(`session ${session.id} cannot be imported: archive missing or channel unknown`);
}

/** The user-days every batch touched: one recompute for them all. */
function touchedBy(batches: readonly OpenedBatch[]): TouchedDays {
  if (batches.length === 1) return batches[0].ctx.touched;
  const all = new TouchedDays();
  for (const { ctx } of batches) all.merge(ctx.touched);
  return all;
}

/** Step 2: the archive read again, device.xml parsed, the importer's context. */
function openBatch(trx: Trx, { session, channel, device, school, ...loaded }: LoadedSession, deps: Deps): OpenedBatch {
  // The api checked the structure; reading again gives the entries (and re-checks, cheaply).
  const archive = inspectArchive(loaded.archive, { channel: CHANNEL_UPLOADS[channel], required: ['device.xml'], limits: archiveLimits(deps.config) });
  const out = emptyParts();
  let report: DeviceReport | null = null;
  try {
    report = parseDeviceXml(readEntry(archive, 'device.xml'));
  } catch (err) {
    if (!isFileError(err)) throw err;
    out.errors.push({ file: 'device.xml', code: err.code, detail: err.message });
  }
  const skewSeconds = report?.clock ? Math.round((report.clock.getTime() - session.received_at.getTime()) / 1000) : null;
  const ctx: ImportContext = {
    trx, logger: deps.logger, now: new Date(), archive, report, out,
    session: { id: session.id, deviceId: session.device_id, channel, receivedAt: session.received_at },
    device: { id: device.id, schoolId: device.school_id, rosterVersion: device.roster_version, hasPendingFlags: device.has_pending_flags },
    school,
    clockSuspect: skewSeconds !== null && Math.abs(skewSeconds) > CLOCK_SUSPECT_SKEW_SECONDS,
    maxRows: deps.config.batchMaxRows,
    touched: new TouchedDays().school(school.id, { timezone: school.timezone, dayEnd: school.day_end.slice(0, 5) }),
  };
  return { ctx, skewSeconds };
}

/** Step 5: the package stored with the outcome, the device's report, and the 1→2 flip, in one statement. */
async function finish(trx: Trx, { ctx, skewSeconds }: OpenedBatch, pkg: InstructionPackage, afterReady: AfterReady | void): Promise<ImportOutcome> {
  // Past the rejections held in memory, the package reads them back from the table as it is written.
  const zip = await packageZip(pkg, ctx.out, ctx.out.rejectionsSpilled ? sessionRejectionPages(trx, ctx.device.schoolId, ctx.session.id, REJECTION_PAGE) : undefined);
  const { out, report, session } = ctx;
  // A clock far ahead (2100, 9999) must not mark the device complete until then for good:
  // last_device_clock only moves forward, so a suspect clock counts as the time received.
  const completeUntil = report?.clock && ctx.clockSuspect && report.clock > session.receivedAt ? session.receivedAt : report?.clock ?? null;
  // A RESET_SESSION may have closed this session meanwhile: then nothing flips, but the import
  // stands; its package is never served, so what it carried (flags …) stays pending.
  const ready = await finishImport(trx, { id: session.id, schoolId: ctx.device.schoolId, deviceId: ctx.device.id, channel: session.channel }, {
    // A file that could not be read was not imported: the session says so (docs/protocol/v4.md §4, docs/PROTOCOL-READING.md).
    outcome: out.errors.length > 0 ? 'partial' : 'imported', file_errors: out.errors.map((e) => ({ file: e.file ?? '', code: e.code, detail: e.detail ?? null })),
    stats: Object.fromEntries(out.imports), package: zip, package_sha256: sha256(zip),
    device_clock: report?.clock ?? null, clock_skew_seconds: skewSeconds, offered: out.offered,
  }, { report: report && { ...report, clock: completeUntil }, skewSeconds });
  if (!ready) return 'not_current';
  await afterReady?.(trx);
  return 'imported';
}

/**
 * Retries exhausted or stuck for good: the processing_failed package (§5), nothing imported.
 * `reason` stays on the session for staff and the logs; `detail` goes to the device in the
 * package's `<error detail=…>` (docs/PROTOCOL-READING.md "A batch the server gives up on").
 */
export async function failSession(deps: { db: Db; logger: Logger }, sessionId: string, reason: string, detail: string): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const session = await lockSession(trx, sessionId);
    if (!session || session.processed_at) return false;
    const now = new Date();
    const zip = buildZip([{ name: 'instructions.xml', data: buildInstructionsXml({ sessionId, generatedAt: now, errors: [{ code: 'processing_failed', detail, retry: true }] }) }]);
    await finishSession(trx, session.school_id, sessionId, { outcome: 'failed', stats: null, package: zip, package_sha256: sha256(zip), failure: reason.slice(0, 2000) });
    await recordDeviceReport(trx, session.school_id, session.device_id, null, null, false);
    await markReady(trx, session.school_id, session.device_id, session.channel, sessionId);
    deps.logger.warn({ sessionId, reason }, 'session failed for good: processing_failed package ready');
    return true;
  });
}

/** What a device reads in `<error code="processing_failed" detail=…>`, by why the batch was given up. */
export const FAILED_DETAIL = {
  /** Every attempt failed with an error. */
  retriesExhausted: (attempts: number) => `the import failed ${attempts} times; nothing of this batch was imported: send the same rows again`,
  /** Attempts that never finished: the worker died during each (out of memory, killed). */
  crashed: (attempts: number, maxRows: number) => `the import of this batch stopped ${attempts} times without finishing, so it is given up; nothing of this batch was imported: `
    + `send the same rows again in smaller batches (at most ${maxRows} rows each)`,
  stuck: (seconds: number) => `the batch waited more than ${seconds} s for its import; nothing of this batch was imported: send the same rows again`,
} as const;
