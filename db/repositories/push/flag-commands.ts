// Flags on PUSH terminals carried by commands: the flags to turn into commands, and what a command's
// result does to its flag (applied when all succeeded, closed as failed at the first failure).
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../database.js';
import type { FinishedCommand } from './commands.js';

/** These flags, when they are set on PUSH terminals, with the timezone the terminal reads. */
export async function pushFlagsOf(trx: Trx, schoolId: number, flagIds: readonly number[]) {
  return trx.selectFrom('device_flags as f').innerJoin('devices as d', 'd.id', 'f.device_id').innerJoin('schools as s', 's.id', 'd.school_id')
    .select(['f.id', 'f.device_id', 'f.name', 'f.params', 'd.school_id', 'd.timezone', 's.timezone as school_timezone'])
    .where('f.school_id', '=', schoolId).where('f.id', 'in', [...flagIds]).where('d.protocol', '=', 'push').execute();
}

/** A replaced flag's commands not sent yet. */
export async function cancelQueuedFlagCommands(trx: Trx, schoolId: number, flagId: number): Promise<void> {
  await trx.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()`, failure: 'its flag was replaced' })
    .where('school_id', '=', schoolId).where('flag_id', '=', flagId).where('status', '=', 'queued').execute();
}

/** A flag with no PUSH meaning: applied at once, with a note saying so. */
export async function applyFlagWithoutCommands(trx: Trx, flagId: number, deviceId: string): Promise<void> {
  await sql`
    WITH done AS (UPDATE device_flags SET applied_at = now() WHERE id = ${flagId} AND applied_at IS NULL RETURNING id, school_id)
    INSERT INTO flag_events (school_id, flag_id, device_id, action, details)
    SELECT school_id, id, ${deviceId}::uuid, 'applied', jsonb_build_object('push', 'nothing to do on a PUSH terminal') FROM done
  `.execute(trx);
}

/** The first command of the flag failed: the flag closed as cancelled (failed: true), its other queued commands dropped. */
export async function failFlag(trx: Trx, schoolId: number, deviceId: string, command: FinishedCommand & { flag_id: number }): Promise<void> {
  await sql`
    WITH closed AS (
      -- delivered_at cleared so the flag reads 'cancelled'; its 'delivered' event stays in the trail.
      UPDATE device_flags SET cancelled_at = now(), delivered_at = NULL WHERE school_id = ${schoolId} AND id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL RETURNING id, school_id
    ), dropped AS (
      UPDATE push_commands SET status = 'cancelled', finished_at = now(), failure = 'its flag failed'
      WHERE school_id = ${schoolId} AND flag_id = ${command.flag_id} AND status = 'queued' AND EXISTS (SELECT 1 FROM closed)
    )
    INSERT INTO flag_events (school_id, flag_id, device_id, action, details)
    SELECT school_id, id, ${deviceId}::uuid, 'cancelled', jsonb_build_object('failed', true, 'command_id', ${command.id}::bigint, 'command', ${command.command}::text) FROM closed
  `.execute(trx);
}

/** The flag applied once every one of its commands succeeded. */
export async function applyFlagIfDone(trx: Trx, schoolId: number, deviceId: string, command: FinishedCommand & { flag_id: number }): Promise<void> {
  await sql`
    WITH done AS (
      UPDATE device_flags SET applied_at = now()
      WHERE school_id = ${schoolId} AND id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM push_commands WHERE school_id = ${schoolId} AND flag_id = ${command.flag_id} AND status <> 'succeeded')
      RETURNING id, school_id
    )
    INSERT INTO flag_events (school_id, flag_id, device_id, action, details)
    SELECT school_id, id, ${deviceId}::uuid, 'applied', jsonb_build_object('command_id', ${command.id}::bigint) FROM done
  `.execute(trx);
}

/** The first send of a flag's command delivers the flag (docs/protocol/v4.md §6 life cycle). */
export async function markFlagsDelivered(db: DbOrTrx, flagIds: readonly number[]): Promise<void> {
  if (flagIds.length === 0) return;
  await sql`
    WITH d AS (
      UPDATE device_flags SET delivered_at = now() WHERE id = ANY(${[...new Set(flagIds)]}::bigint[]) AND delivered_at IS NULL AND applied_at IS NULL AND cancelled_at IS NULL
      RETURNING id, school_id, device_id
    )
    INSERT INTO flag_events (school_id, flag_id, device_id, action, details) SELECT school_id, id, device_id, 'delivered', jsonb_build_object('push', true) FROM d
  `.execute(db);
}
