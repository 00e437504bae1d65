// `synchro` in the worker: settings.xml and attendances.csv in; the import report, the roster,
// settings and the special sync flags out (delivered with the package, applied on acknowledgement).
import { markDelivered, pendingFlags } from '../../db/repositories/flags.js';
import { recordReportedSettings } from '../../db/repositories/import-session.js';
import { rosterSince } from '../../db/repositories/roster.js';
import { buildRosterCsv } from '../../shared/csv/roster-csv.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import { parseSettingsXml } from '../../shared/xml/settings-xml.js';
import type { ImportContext } from '../kit/context.js';
import { advanceResend, deliverableFlags, flagInstructions } from '../kit/flags.js';
import type { ChannelImporter } from '../kit/importer.js';
import { readEntry } from '../kit/read-entry.js';
import { importAttendances } from './attendances-log.js';

const ROSTER_FILE = 'roster.csv';

async function importSettings(ctx: ImportContext): Promise<void> {
  if (!ctx.archive.names.includes('settings.xml')) return;
  try {
    await recordReportedSettings(ctx.trx, ctx.device.schoolId, ctx.device.id, parseSettingsXml(readEntry(ctx.archive, 'settings.xml')));
  } catch (err) {
    if (!isFileError(err)) throw err;
    ctx.out.errors.push({ file: 'settings.xml', code: err.code, detail: err.message });
  }
}

/** `fullRoster`: first sync (no version reported) or RELOAD_ROSTER. */
async function addRoster(ctx: ImportContext, fullRoster: boolean): Promise<void> {
  const reported = ctx.report?.rosterVersion ?? ctx.device.rosterVersion ?? 0;
  const full = fullRoster || reported <= 0;
  const { version, users } = await rosterSince(ctx.trx, ctx.device.schoolId, full ? null : reported);
  if (!full && users.length === 0) return; // nothing changed: the device keeps its version
  ctx.out.files.push({ name: ROSTER_FILE, data: buildRosterCsv(users.map((u) => ({ userId: u.id, name: u.name, badge: u.badge, active: u.active }))) });
  ctx.out.roster = { version, mode: full ? 'full' : 'delta', file: ROSTER_FILE };
}

export const synchroImporter: ChannelImporter = {
  name: 'synchro',

  async import(ctx) {
    await importSettings(ctx);
    await importAttendances(ctx);
  },

  async buildPackage(ctx) {
    // Locked: a cancellation or replacement racing this package waits, then sees the flag delivered.
    // Not read when the claim saw none pending (one statement less per sync).
    const pending = ctx.device.hasPendingFlags === false ? [] : await pendingFlags(ctx.trx, ctx.device.schoolId, ctx.device.id, { lock: true });
    const finishedResends = await advanceResend(ctx, pending);
    const flags = deliverableFlags(pending, { channel: 'synchro', receivedAt: ctx.session.receivedAt, sentFiles: ctx.archive.names, finishedResends });
    await addRoster(ctx, flags.some((f) => f.name === 'RELOAD_ROSTER'));
    const instructions = flagInstructions(flags);
    ctx.out.flags.push(...instructions.flags);
    ctx.out.settings = instructions.settings;
    const sessionId = ctx.session.id;
    return async (trx) => {
      await markDelivered(trx, ctx.device.schoolId, flags.map((f) => f.id), sessionId);
    };
  },
};
