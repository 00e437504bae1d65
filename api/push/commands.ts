// Backoffice actions as PUSH commands (docs/protocol/push.md §5), and what a command's result does to the
// flag it came from: success applies the flag, a failure (negative Return, or no answer after
// the last send) closes it as cancelled with the failure in its event, shown to staff.
import type { Trx, DbOrTrx } from '../../db/database.js';
import {
  applyFlagIfDone, applyFlagWithoutCommands, cancelQueuedFlagCommands, failFlag, markFlagsDelivered, notifyTerminal, pushFlagsOf, queueCommands, noteTerminalUser, removeTerminalUsers, resetStamps,
  type FinishedCommand, type QueuedCommand,
} from '../../db/repositories/push.js';
import { rosterUsers } from '../../db/repositories/roster.js';
import { commandField, rosterCommandEffect, userDelete, userUpdate } from '../../shared/protocol/push.js';

/** Commands staff may send directly (besides flags): the verbs real firmware accepts. */
export const PUSH_COMMANDS = ['REBOOT', 'INFO', 'CHECK', 'CLEAR LOG', 'DATA QUERY USERINFO'] as const;

const DAY_MS = 86_400_000;

function pushTime(instant: Date, timeZone: string): string {
  // The terminal's wall clock, as it writes its own times.
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** `DATA QUERY ATTLOG` over [from, to), in windows of at most 31 days (RESEND_SINCE's rule). */
export function attlogQueries(from: Date, to: Date, timeZone: string): string[] {
  const out: string[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += 31 * DAY_MS) {
    const end = Math.min(start + 31 * DAY_MS, to.getTime());
    out.push(`DATA QUERY ATTLOG StartTime=${pushTime(new Date(start), timeZone)}\tEndTime=${pushTime(new Date(end), timeZone)}`);
  }
  return out;
}

/**
 * A flag (docs/protocol/v4.md §6) on a PUSH terminal as commands (docs/protocol/push.md §5). Null for a flag with no
 * PUSH meaning (PURGE_CONFIRMED_LOGS: the terminal keeps its own log; RESET_SESSION: no sessions).
 */
export async function flagCommands(trx: DbOrTrx, flag: { id: number; device_id: string; name: string; params: Record<string, unknown> }, ctx: { timeZone: string; now: Date; roster: Array<{ badge: string; name: string; active: boolean }> }): Promise<QueuedCommand[] | null> {
  const base = { source: 'flag' as const, flagId: flag.id };
  switch (flag.name) {
    case 'REBOOT': return [{ ...base, command: 'REBOOT' }];
    case 'REPORT_SETTINGS': return [{ ...base, command: 'INFO' }];
    case 'SET_SETTINGS':
      return Object.entries(flag.params).map(([k, v]) => ({ ...base, command: `SET OPTION ${commandField(k)}=${commandField(String(v))}` }));
    case 'RELOAD_ROSTER':
      return ctx.roster.map((u) => ({ ...base, command: u.active ? userUpdate(u) : userDelete(u) }));
    case 'FULL_RESYNC':
      await resetStamps(trx, flag.device_id);
      // The cursors back to 0 make the terminal send everything at its next upload; the query asks at once.
      return [{ ...base, command: `DATA QUERY ATTLOG StartTime=2000-01-01 00:00:00\tEndTime=${pushTime(new Date(ctx.now.getTime() + DAY_MS), ctx.timeZone)}` }];
    case 'RESEND_SINCE': {
      const since = String(flag.params.since);
      const from = new Date(`${since}T00:00:00Z`);
      return attlogQueries(from, new Date(ctx.now.getTime() + DAY_MS), ctx.timeZone).map((command) => ({ ...base, command }));
    }
    default: return null;
  }
}

/** A command's result reached its flag: applied when every command of the flag succeeded, closed as failed at the first failure. */
export async function commandFinished(trx: Trx, deviceId: string, command: FinishedCommand): Promise<void> {
  // A roster change the terminal carried out is on its user list now: the differences shown to
  // staff follow at once (issue 27 §6: they read "30 differences" until its next OPERLOG).
  const effect = command.status === 'succeeded' ? rosterCommandEffect(command.command) : null;
  if (effect?.op === 'update') await noteTerminalUser(trx, deviceId, effect.pin, effect.name);
  if (effect?.op === 'delete') await removeTerminalUsers(trx, deviceId, [effect.pin]);
  if (command.flag_id === null) return;
  const withFlag = { ...command, flag_id: command.flag_id };
  if (command.status === 'failed') await failFlag(trx, deviceId, withFlag);
  else await applyFlagIfDone(trx, deviceId, withFlag);
}

/**
 * Flags just set (or replaced) on PUSH terminals become their commands, in the request's
 * transaction: a replaced flag's commands not yet sent are dropped first. A flag with no PUSH
 * meaning is applied at once with a note saying so. Devices speaking v4 are left alone.
 */
export async function queueFlagCommands(trx: Trx, flagIds: readonly number[], now: Date): Promise<void> {
  if (flagIds.length === 0) return;
  const flags = await pushFlagsOf(trx, flagIds);
  for (const flag of flags) {
    await cancelQueuedFlagCommands(trx, Number(flag.id));
    const roster = flag.name === 'RELOAD_ROSTER' ? await rosterUsers(trx, flag.school_id, null) : [];
    const commands = await flagCommands(trx, { ...flag, id: Number(flag.id) }, { timeZone: flag.timezone ?? flag.school_timezone, now, roster });
    if (commands === null || commands.length === 0) {
      await applyFlagWithoutCommands(trx, Number(flag.id), flag.device_id);
      continue;
    }
    await queueCommands(trx, flag.device_id, commands);
    await notifyTerminal(trx, { deviceId: flag.device_id });
  }
}

export { markFlagsDelivered };
