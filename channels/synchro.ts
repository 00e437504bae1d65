// `synchro` (PROTOCOL.md §4–§6): device.xml, settings.xml when asked, attendances.csv up; the
// import report, the roster, settings and the special sync flags down. Flags ride on this
// channel only: they are delivered with its packages and applied when those are acknowledged.
import { applyDelivered, deviceTimeZone, markDelivered, pendingFlags, recordResendOffer } from '../db/repositories/flags.js';
import { recordReportedSettings } from '../db/repositories/import-session.js';
import { rosterHorizon, rosterUsers } from '../db/repositories/roster.js';
import { readState } from '../db/repositories/sync.js';
import { buildRosterCsv } from '../shared/csv/roster-csv.js';
import { SYNC_STATUS } from '../shared/protocol/codes.js';
import { isFileError } from '../shared/protocol/file-error.js';
import { resendWindow } from '../shared/protocol/resend.js';
import { parseSettingsXml } from '../shared/xml/settings-xml.js';
import { ATTENDANCES_FILE, importAttendances } from '../worker/import/attendances-csv.js';
import type { ImportContext } from '../worker/import/context.js';
import { advanceResend, deliverableFlags, flagInstructions } from '../worker/import/flags.js';
import { readEntry } from '../worker/import/read-entry.js';
import { DEVICE_XML, type ChannelDefinition, type ManifestExtras } from './definition.js';

const ROSTER_FILE = 'roster.csv';

async function importSettings(ctx: ImportContext): Promise<void> {
  if (!ctx.archive.names.includes('settings.xml')) return;
  try {
    await recordReportedSettings(ctx.trx, ctx.device.id, parseSettingsXml(readEntry(ctx.archive, 'settings.xml')));
  } catch (err) {
    if (!isFileError(err)) throw err;
    ctx.out.errors.push({ file: 'settings.xml', code: err.code, detail: err.message });
  }
}

/** `fullRoster`: first sync (no version reported) or RELOAD_ROSTER. */
async function addRoster(ctx: ImportContext, fullRoster: boolean): Promise<void> {
  const reported = ctx.report?.rosterVersion ?? ctx.device.rosterVersion ?? 0;
  const full = fullRoster || reported <= 0;
  const version = await rosterHorizon(ctx.trx);
  const users = await rosterUsers(ctx.trx, ctx.device.schoolId, full ? null : reported);
  if (!full && users.length === 0) return; // nothing changed: the device keeps its version
  ctx.out.files.push({ name: ROSTER_FILE, data: buildRosterCsv(users.map((u) => ({ userId: u.id, name: u.name, badge: u.badge, active: u.active }))) });
  ctx.out.roster = { version, mode: full ? 'full' : 'delta', file: ROSTER_FILE };
}

export const synchroChannel: ChannelDefinition = {
  name: 'synchro',
  upload: { name: 'synchro', xmlFiles: ['device.xml', 'settings.xml'], csvLogs: [ATTENDANCES_FILE] },

  wantedFiles(flags) {
    const files = [DEVICE_XML];
    if (flags.some((f) => f.name === 'REPORT_SETTINGS')) files.push({ name: 'settings.xml', required: true });
    return files;
  },

  async manifest({ db, deviceId, flags, now }) {
    const extras: ManifestExtras = {};
    const resendFlag = flags.find((f) => f.name === 'RESEND_SINCE');
    const resend = resendFlag ? resendWindow([resendFlag], now, await deviceTimeZone(db, deviceId)) : null;
    if (resendFlag && resend) {
      extras.resend = resend;
      // Remember what was offered: only a batch uploaded after this offer covers the window (worker/import/flags.ts).
      // While a batch is in hand (status 1 or 2) the manifest is informative only and the offer stands.
      const state = await readState(db, deviceId, 'synchro');
      if ((state?.status ?? SYNC_STATUS.idle) === SYNC_STATUS.idle) await recordResendOffer(db, resendFlag.id, resend);
    }
    return extras;
  },

  async import(ctx) {
    await importSettings(ctx);
    await importAttendances(ctx);
  },

  async buildPackage(ctx) {
    // Locked: a cancellation or replacement racing this package waits, then sees the flag delivered.
    const pending = await pendingFlags(ctx.trx, ctx.device.id, { lock: true });
    const finishedResends = await advanceResend(ctx, pending);
    const flags = deliverableFlags(pending, { channel: 'synchro', receivedAt: ctx.session.receivedAt, sentFiles: ctx.archive.names, finishedResends });
    await addRoster(ctx, flags.some((f) => f.name === 'RELOAD_ROSTER'));
    const instructions = flagInstructions(flags);
    ctx.out.flags.push(...instructions.flags);
    ctx.out.settings = instructions.settings;
    const sessionId = ctx.session.id;
    return async (trx) => {
      await markDelivered(trx, flags.map((f) => f.id), sessionId);
    };
  },

  async acknowledged(trx, { sessionId }) {
    await applyDelivered(trx, sessionId);
  },
};
