// Which pending flags a package delivers (docs/protocol/v4.md §6), what they put in it, and how a
// batch moves a RESEND_SINCE forward (rules in shared/protocol/resend.ts).
import { mergeFlagProgress } from '../../db/repositories/flags.js';
import type { DeviceFlag } from '../../db/schema/index.js';
import { readCsvLog } from '../../shared/csv/read-csv-log.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import type { FlagInstruction } from '../../shared/protocol/instruction-package.js';
import { parseIsoTimestamp } from '../../shared/protocol/iso-timestamp.js';
import { isLastWindow, resendFrom, resendProgress } from '../../shared/protocol/resend.js';
import type { ImportContext } from './context.js';

const RESEND_FILE = 'attendances.csv';

/**
 * Flags ride on synchro packages. A flag that changes what the device uploads (FULL_RESYNC,
 * REPORT_SETTINGS, RESEND_SINCE) is delivered only by a batch uploaded after it was set, so
 * the device really acted on it; RESEND_SINCE only with the batch that covered its last window
 * (`finishedResends`, from `advanceResend`); RESET_SESSION acted on the server already.
 */
export function deliverableFlags(
  flags: readonly DeviceFlag[],
  session: { channel: ChannelName; receivedAt: Date; sentFiles: readonly string[]; finishedResends?: readonly number[] },
): DeviceFlag[] {
  if (session.channel !== 'synchro') return [];
  return flags.filter((f) => {
    switch (f.name) {
      case 'RESET_SESSION':
        return false;
      case 'FULL_RESYNC':
        return f.set_at < session.receivedAt;
      case 'RESEND_SINCE':
        return (session.finishedResends ?? []).includes(f.id);
      case 'REPORT_SETTINGS':
        return f.set_at < session.receivedAt && session.sentFiles.includes('settings.xml');
      default:
        return true;
    }
  });
}

export function flagInstructions(flags: readonly DeviceFlag[]): { flags: FlagInstruction[]; settings: Record<string, string> | null } {
  let settings: Record<string, string> | null = null;
  const out: FlagInstruction[] = [];
  for (const f of flags) {
    if (f.name === 'SET_SETTINGS') {
      settings = { ...(settings ?? {}) };
      for (const [k, v] of Object.entries(f.params ?? {})) settings[k] = String(v);
    }
    const params: Record<string, string> = {};
    if (f.name === 'RESEND_SINCE' && typeof f.params?.since === 'string') params.since = f.params.since;
    out.push({ id: f.id, name: f.name, params });
  }
  return { flags: out, settings };
}

/**
 * RESEND_SINCE: when this batch was uploaded after the manifest offered the flag's current
 * window (and after the flag was last set), the window counts as covered: progress moves to the
 * window's end, windows done +1, rows received + the batch's rows whose occurred_at falls in it.
 * The offer is used up, so a second upload without a new manifest covers nothing. Returns the
 * ids of flags whose last window this batch covered: they are delivered with this package.
 */
export async function advanceResend(ctx: ImportContext, flags: readonly DeviceFlag[]): Promise<number[]> {
  if (ctx.session.channel !== 'synchro') return [];
  const flag = flags.find((f) => f.name === 'RESEND_SINCE');
  if (!flag) return [];
  const progress = resendProgress(flag);
  const offered = progress.offered;
  const from = resendFrom(flag, ctx.school.timezone);
  if (!offered || !from) return [];
  const offeredAt = new Date(offered.at);
  if (new Date(offered.from).getTime() !== from.getTime() || offeredAt < flag.set_at || offeredAt > ctx.session.receivedAt) return [];
  // The log could not be read at all: nothing of the window arrived.
  if (ctx.out.errors.some((e) => e.file === RESEND_FILE)) return [];
  const window = { from, to: new Date(offered.to) };
  const rows = await rowsInWindow(ctx, window);
  await mergeFlagProgress(ctx.trx, ctx.device.schoolId, flag.id, {
    next_from: window.to.toISOString(),
    windows_done: (progress.windows_done ?? 0) + 1,
    rows_received: (progress.rows_received ?? 0) + rows,
    last_session_id: ctx.session.id,
    offered: null,
  });
  return isLastWindow(window) ? [flag.id] : [];
}

/** Rows of the batch's log whose occurred_at falls in [from, to), whatever became of them. */
async function rowsInWindow(ctx: ImportContext, window: { from: Date; to: Date }): Promise<number> {
  if (!ctx.archive.names.includes(RESEND_FILE)) return 0;
  let n = 0;
  for await (const row of readCsvLog(ctx.archive.read(RESEND_FILE), { required: ['occurred_at'], optional: [] })) {
    if (row.malformed) continue;
    const at = parseIsoTimestamp(row.fields.occurred_at ?? '');
    if (at && at >= window.from && at < window.to) n++;
  }
  return n;
}
