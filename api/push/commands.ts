// Backoffice actions queued as PUSH commands (the commands themselves: shared/protocol/push-commands.ts),
// and what a command's result does to the flag it came from: success applies the flag, a failure (negative Return, or no answer after
// the last send) closes it as cancelled with the failure in its event, shown to staff.
import type { Trx, DbOrTrx } from '../../db/database.js';
import { type FinishedCommand, queueCommands, type QueuedCommand } from '../../db/repositories/push/commands.js';
import { applyFlagIfDone, applyFlagWithoutCommands, cancelQueuedFlagCommands, failFlag, markFlagsDelivered, pushFlagsOf } from '../../db/repositories/push/flag-commands.js';
import { noteTerminalUser, removeTerminalUsers } from '../../db/repositories/push/terminal-users.js';
import { notifyTerminal, resetStamps } from '../../db/repositories/push/terminals.js';
import { rosterUsers } from '../../db/repositories/roster.js';
import { flagCommandLines, rosterCommandEffect, type RosterUser } from '../../shared/protocol/push-commands.js';

/**
 * A flag on a PUSH terminal as its queued commands (shared/protocol/push-commands.ts flagCommandLines);
 * FULL_RESYNC sets the terminal's upload cursors back to 0 too. Null for a flag with no PUSH meaning.
 */
export async function flagCommands(trx: DbOrTrx, flag: { id: number; school_id: number; device_id: string; name: string; params: Record<string, unknown> }, ctx: { timeZone: string; now: Date; roster: readonly RosterUser[] }): Promise<QueuedCommand[] | null> {
  const lines = flagCommandLines(flag, ctx);
  if (lines === null) return null;
  if (flag.name === 'FULL_RESYNC') await resetStamps(trx, flag.school_id, flag.device_id);
  return lines.map((command) => ({ source: 'flag' as const, flagId: flag.id, command }));
}

/** A command's result reached its flag: applied when every command of the flag succeeded, closed as failed at the first failure. */
export async function commandFinished(trx: Trx, schoolId: number, deviceId: string, command: FinishedCommand): Promise<void> {
  // A roster change the terminal carried out is on its user list now: the differences shown to
  // staff follow at once (issue 27 §6: they read "30 differences" until its next OPERLOG).
  const effect = command.status === 'succeeded' ? rosterCommandEffect(command.command) : null;
  if (effect?.op === 'update') await noteTerminalUser(trx, deviceId, effect.pin, effect.name);
  if (effect?.op === 'delete') await removeTerminalUsers(trx, schoolId, deviceId, [effect.pin]);
  if (command.flag_id === null) return;
  const withFlag = { ...command, flag_id: command.flag_id };
  if (command.status === 'failed') await failFlag(trx, schoolId, deviceId, withFlag);
  else await applyFlagIfDone(trx, schoolId, deviceId, withFlag);
}

/**
 * Flags just set (or replaced) on PUSH terminals become their commands, in the request's
 * transaction: a replaced flag's commands not yet sent are dropped first. A flag with no PUSH
 * meaning is applied at once with a note saying so. Devices speaking v4 are left alone.
 */
export async function queueFlagCommands(trx: Trx, schoolId: number, flagIds: readonly number[], now: Date): Promise<void> {
  if (flagIds.length === 0) return;
  const flags = await pushFlagsOf(trx, schoolId, flagIds);
  for (const flag of flags) {
    await cancelQueuedFlagCommands(trx, Number(flag.school_id), Number(flag.id));
    const roster = flag.name === 'RELOAD_ROSTER' ? await rosterUsers(trx, flag.school_id, null) : [];
    const commands = await flagCommands(trx, { ...flag, id: Number(flag.id), school_id: Number(flag.school_id) }, { timeZone: flag.timezone ?? flag.school_timezone, now, roster });
    if (commands === null || commands.length === 0) {
      await applyFlagWithoutCommands(trx, Number(flag.id), flag.device_id);
      continue;
    }
    await queueCommands(trx, flag.device_id, commands);
    await notifyTerminal(trx, { deviceId: flag.device_id });
  }
}

export { markFlagsDelivered };
