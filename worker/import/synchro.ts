// The synchro channel (PROTOCOL.md §4–§5): settings.xml when sent, attendances.csv, and the
// roster the device should hold (full on first sync or when asked, else the delta).
import { recordReportedSettings } from '../../db/repositories/import-session.js';
import { rosterHorizon, rosterUsers } from '../../db/repositories/roster.js';
import { buildRosterCsv } from '../../shared/csv/roster-csv.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import { parseSettingsXml } from '../../shared/xml/settings-xml.js';
import { importAttendances } from './attendances-csv.js';
import type { ChannelImporter, ImportContext } from './context.js';
import { readEntry } from './read-entry.js';

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
export async function addRoster(ctx: ImportContext, fullRoster: boolean): Promise<void> {
  const reported = ctx.report?.rosterVersion ?? ctx.device.rosterVersion ?? 0;
  const full = fullRoster || reported <= 0;
  const version = await rosterHorizon(ctx.trx);
  const users = await rosterUsers(ctx.trx, ctx.device.schoolId, full ? null : reported);
  if (!full && users.length === 0) return; // nothing changed: the device keeps its version
  ctx.out.files.push({ name: ROSTER_FILE, data: buildRosterCsv(users.map((u) => ({ userId: u.id, name: u.name, badge: u.badge, active: u.active }))) });
  ctx.out.roster = { version, mode: full ? 'full' : 'delta', file: ROSTER_FILE };
}

export const synchroImporter: ChannelImporter = {
  channel: 'synchro',
  async import(ctx) {
    await importSettings(ctx);
    await importAttendances(ctx);
  },
};
