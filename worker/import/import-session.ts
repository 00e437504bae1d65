// Imports one accepted batch in ONE transaction (PROTOCOL.md §8): the channel's files, the
// high-water marks, rejections, fever events, the touched user-days, the instruction package
// and the 1→2 flip all commit together, or nothing does and the job is retried. The same for
// every channel: what differs comes from its definition (channels/registry.ts).
import { importPushSession } from '../../channels/push/session.js';
import { channelOf, isChannelName } from '../../channels/registry.js';
import type { Db } from '../../db/database.js';
import { lockSession, recordAttempt, recordDeviceReport, sessionDevice } from '../../db/repositories/import-session.js';
import { finishSession, markReady } from '../../db/repositories/sync.js';
import { sha256 } from '../../shared/archive/hash.js';
import { inspectArchive } from '../../shared/archive/inspect-archive.js';
import { buildZip } from '../../shared/archive/build-zip.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { CLOCK_REPORT_SKEW_SECONDS, CLOCK_SUSPECT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import { PUSH_SESSION_CHANNEL } from '../../shared/protocol/push.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import type { InstructionPackage } from '../../shared/protocol/instruction-package.js';
import { buildInstructionsXml } from '../../shared/xml/instructions-xml.js';
import { parseDeviceXml, type DeviceReport } from '../../shared/xml/device-xml.js';
import { emptyParts, type ImportContext } from './context.js';
import { TouchedDays } from './touched-days.js';
import { readEntry } from './read-entry.js';

export type ImportOutcome = 'imported' | 'already_processed' | 'not_current' | 'missing';

export async function importSession(deps: { db: Db; config: Config; logger: Logger }, sessionId: string): Promise<ImportOutcome> {
  const { db, config, logger } = deps;
  return db.transaction().execute(async (trx) => {
    const session = await lockSession(trx, sessionId);
    if (!session) return 'missing';
    if (session.processed_at) return 'already_processed';
    await recordAttempt(trx, sessionId);
    const found = await sessionDevice(trx, session.device_id);
    // A PUSH terminal's ATTLOG batch (PUSH.md §4): the same job, transaction and kit, its own reader.
    if (session.channel === PUSH_SESSION_CHANNEL && found && session.archive) {
      await importPushSession({ trx, logger, session: { ...session, archive: session.archive }, school: found.school });
      return 'imported';
    }
    if (!found || !session.archive || !isChannelName(session.channel)) throw new Error(`session ${sessionId} cannot be imported: device or archive missing`);
    const { device, school } = found;
    const channel = session.channel;
    const definition = channelOf(channel);
    const now = new Date();

    // The api checked the structure; reading again gives the entries (and re-checks, cheaply).
    const archive = inspectArchive(session.archive, {
      channel: definition.upload, required: ['device.xml'],
      limits: { maxEntries: config.archiveMaxEntries, maxTotalUncompressed: config.archiveMaxUncompressedBytes, maxEntryUncompressed: config.archiveMaxUncompressedBytes, maxRatio: config.archiveMaxRatio },
    });
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
      trx, logger, now, archive, report, out,
      session: { id: session.id, deviceId: session.device_id, channel, receivedAt: session.received_at },
      device: { id: device.id, schoolId: device.school_id, rosterVersion: device.roster_version },
      school,
      clockSuspect: skewSeconds !== null && Math.abs(skewSeconds) > CLOCK_SUSPECT_SKEW_SECONDS,
      touched: new TouchedDays(school.id, school.timezone, school.day_end.slice(0, 5)),
    };

    await definition.import(ctx);
    // Figures: the user-days this batch touched, in this same transaction (PROTOCOL.md §8).
    await ctx.touched.recompute(trx, now);
    const afterReady = await definition.buildPackage?.(ctx);

    const pkg: InstructionPackage = {
      sessionId: session.id,
      generatedAt: now,
      imports: [...out.imports].map(([file, s]) => ({ file, received: s.received, accepted: s.accepted, duplicates: s.duplicates, rejected: s.rejected, highWaterMark: s.high_water_mark })),
      rejections: out.rejections,
      errors: out.errors,
      clock: skewSeconds !== null && Math.abs(skewSeconds) > CLOCK_REPORT_SKEW_SECONDS ? { serverTime: now, skewSeconds } : null,
      roster: out.roster,
      settings: out.settings,
      flags: out.flags,
      alerts: out.alerts,
      messages: out.messages,
      photos: out.photos,
    };
    const zip = buildZip([{ name: 'instructions.xml', data: buildInstructionsXml(pkg) }, ...out.files]);
    await finishSession(trx, session.id, {
      outcome: 'imported', stats: Object.fromEntries(out.imports), package: zip, package_sha256: sha256(zip),
      device_clock: report?.clock ?? null, clock_skew_seconds: skewSeconds, offered: out.offered,
    });
    await recordDeviceReport(trx, device.id, report, skewSeconds, true);
    // A RESET_SESSION may have closed this session meanwhile: then nothing flips, but the import
    // stands; its package is never served, so what it carried (flags …) stays pending.
    if (!(await markReady(trx, device.id, channel, session.id))) return 'not_current';
    await afterReady?.(trx);
    return 'imported';
  });
}

/** Retries exhausted or stuck for good: the processing_failed package (§5), nothing imported. */
export async function failSession(deps: { db: Db; logger: Logger }, sessionId: string, reason: string): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const session = await lockSession(trx, sessionId);
    if (!session || session.processed_at) return false;
    const now = new Date();
    const zip = buildZip([{ name: 'instructions.xml', data: buildInstructionsXml({ sessionId, generatedAt: now, errors: [{ code: 'processing_failed', retry: true }] }) }]);
    await finishSession(trx, sessionId, { outcome: 'failed', stats: null, package: zip, package_sha256: sha256(zip), failure: reason.slice(0, 2000) });
    await recordDeviceReport(trx, session.device_id, null, null, false);
    await markReady(trx, session.device_id, session.channel, sessionId);
    deps.logger.warn({ sessionId, reason }, 'session failed for good: processing_failed package ready');
    return true;
  });
}
