// Backoffice actions as PUSH commands (PUSH.md §5), and what a command's result does to the
// flag it came from: success applies the flag, a failure (negative Return, or no answer after
// the last send) closes it as cancelled with the failure in its event, shown to staff.
import { sql } from 'kysely';
import type { Trx, DbOrTrx } from '../../db/database.js';
import { notifyTerminal, queueCommands, resetStamps, type FinishedCommand, type QueuedCommand } from '../../db/repositories/push.js';
import { rosterUsers } from '../../db/repositories/roster.js';
import { commandField, userDelete, userUpdate } from '../../shared/protocol/push.js';

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
 * A flag (PROTOCOL.md §6) on a PUSH terminal as commands (PUSH.md §5). Null for a flag with no
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
  if (command.flag_id === null) return;
  if (command.status === 'failed') {
    await sql`
      WITH closed AS (
        -- delivered_at cleared so the flag reads 'cancelled'; its 'delivered' event stays in the trail.
        UPDATE device_flags SET cancelled_at = now(), delivered_at = NULL WHERE id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL RETURNING id
      ), dropped AS (
        UPDATE push_commands SET status = 'cancelled', finished_at = now(), failure = 'its flag failed'
        WHERE flag_id = ${command.flag_id} AND status = 'queued' AND EXISTS (SELECT 1 FROM closed)
      )
      INSERT INTO flag_events (flag_id, device_id, action, details)
      SELECT id, ${deviceId}::uuid, 'cancelled', jsonb_build_object('failed', true, 'command_id', ${command.id}::bigint, 'command', ${command.command}::text) FROM closed
    `.execute(trx);
    return;
  }
  await sql`
    WITH done AS (
      UPDATE device_flags SET applied_at = now()
      WHERE id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM push_commands WHERE flag_id = ${command.flag_id} AND status <> 'succeeded')
      RETURNING id
    )
    INSERT INTO flag_events (flag_id, device_id, action, details)
    SELECT id, ${deviceId}::uuid, 'applied', jsonb_build_object('command_id', ${command.id}::bigint) FROM done
  `.execute(trx);
}

/**
 * Flags just set (or replaced) on PUSH terminals become their commands, in the request's
 * transaction: a replaced flag's commands not yet sent are dropped first. A flag with no PUSH
 * meaning is applied at once with a note saying so. Devices speaking v4 are left alone.
 */
export async function queueFlagCommands(trx: Trx, flagIds: readonly number[], now: Date): Promise<void> {
  if (flagIds.length === 0) return;
  const flags = await trx.selectFrom('device_flags as f').innerJoin('devices as d', 'd.id', 'f.device_id').innerJoin('schools as s', 's.id', 'd.school_id')
    .select(['f.id', 'f.device_id', 'f.name', 'f.params', 'd.school_id', 'd.timezone', 's.timezone as school_timezone'])
    .where('f.id', 'in', [...flagIds]).where('d.protocol', '=', 'push').execute();
  for (const flag of flags) {
    await trx.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()`, failure: 'its flag was replaced' })
      .where('flag_id', '=', flag.id).where('status', '=', 'queued').execute();
    const roster = flag.name === 'RELOAD_ROSTER' ? await rosterUsers(trx, flag.school_id, null) : [];
    const commands = await flagCommands(trx, { ...flag, id: Number(flag.id) }, { timeZone: flag.timezone ?? flag.school_timezone, now, roster });
    if (commands === null || commands.length === 0) {
      await sql`
        WITH done AS (UPDATE device_flags SET applied_at = now() WHERE id = ${flag.id} AND applied_at IS NULL RETURNING id)
        INSERT INTO flag_events (flag_id, device_id, action, details)
        SELECT id, ${flag.device_id}::uuid, 'applied', jsonb_build_object('push', 'nothing to do on a PUSH terminal') FROM done
      `.execute(trx);
      continue;
    }
    await queueCommands(trx, flag.device_id, commands);
    await notifyTerminal(trx, { deviceId: flag.device_id });
  }
}

/** The first send of a flag's command delivers the flag (PROTOCOL.md §6 life cycle). */
export async function markFlagsDelivered(db: DbOrTrx, flagIds: readonly number[]): Promise<void> {
  if (flagIds.length === 0) return;
  await sql`
    WITH d AS (
      UPDATE device_flags SET delivered_at = now() WHERE id = ANY(${[...new Set(flagIds)]}::bigint[]) AND delivered_at IS NULL AND applied_at IS NULL AND cancelled_at IS NULL
      RETURNING id, device_id
    )
    INSERT INTO flag_events (flag_id, device_id, action, details) SELECT id, device_id, 'delivered', jsonb_build_object('push', true) FROM d
  `.execute(db);
}
