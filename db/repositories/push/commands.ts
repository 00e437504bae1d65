// The command queue of PUSH terminals (docs/protocol/push.md §5): queued, taken at a poll, resent until
// answered or out of sends, results recorded, overdue ones failed; staff list and cancel them.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../database.js';
import { schoolOfDevice } from '../devices.js';
import type { PushCommandSource, PushCommandStatus } from '../../schema/index.js';

export interface QueuedCommand {
  command: string;
  source: PushCommandSource;
  flagId?: number | null;
  createdBy?: number | null;
}

export async function queueCommands(trx: DbOrTrx, deviceId: string, commands: readonly QueuedCommand[]): Promise<number[]> {
  if (commands.length === 0) return [];
  const rows = await trx.insertInto('push_commands')
    .values(commands.map((c) => ({ school_id: schoolOfDevice(deviceId), device_id: deviceId, command: c.command, source: c.source, flag_id: c.flagId ?? null, created_by: c.createdBy ?? null })))
    .returning('id').execute();
  return rows.map((r) => Number(r.id));
}

/** An open command whose flag expired before it was applied: never sent (again); cancelled. */
const FLAG_EXPIRED = sql`EXISTS (SELECT 1 FROM device_flags f WHERE f.id = push_commands.flag_id AND f.applied_at IS NULL AND f.expires_at <= now())`;

/**
 * The commands to send on this poll, marked sent in the same statement: queued ones, and sent
 * ones whose answer is overdue (`resendAfterSeconds`) with sends left (`maxSends`). At most `limit`.
 * Those whose flag has expired are cancelled instead, as the flag's life cycle says.
 */
export async function takeCommandsToSend(db: DbOrTrx, schoolId: number, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number; limit: number }): Promise<Array<{ id: number; command: string; flag_id: number | null }>> {
  await sql`
    UPDATE push_commands SET status = 'cancelled', finished_at = now(), failure = 'its flag expired'
    WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid AND status IN ('queued', 'sent') AND flag_id IS NOT NULL AND ${FLAG_EXPIRED}
  `.execute(db);
  const rows = await sql<{ id: string; command: string; flag_id: string | null }>`
    UPDATE push_commands c SET status = 'sent', sends = c.sends + 1, last_sent_at = now()
    FROM (
      SELECT id FROM push_commands
      WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid AND (status = 'queued'
        OR (status = 'sent' AND sends < ${opts.maxSends} AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds})))
      ORDER BY id LIMIT ${opts.limit} FOR UPDATE SKIP LOCKED
    ) pick
    WHERE c.school_id = ${schoolId} AND c.id = pick.id
    RETURNING c.id, c.command, c.flag_id
  `.execute(db);
  return rows.rows.map((r) => ({ id: Number(r.id), command: r.command, flag_id: r.flag_id === null ? null : Number(r.flag_id) })).sort((a, b) => a.id - b.id);
}

/** Any command queued or sent and not finished (the push_commands_open index answers it). */
export async function hasOpenCommands(db: DbOrTrx, schoolId: number, deviceId: string): Promise<boolean> {
  const row = await db.selectFrom('push_commands').select('id').where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('status', 'in', ['queued', 'sent']).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Whether the terminal has anything to send now (the getrequest cache asks this on a miss). */
export async function hasCommandsDue(db: DbOrTrx, schoolId: number, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number }): Promise<{ due: boolean; nextDueAt: Date | null }> {
  const row = await sql<{ due: boolean; next_due_at: Date | null }>`
    SELECT bool_or(status = 'queued' OR (sends < ${opts.maxSends} AND last_sent_at <= now() - make_interval(secs => ${opts.resendAfterSeconds}))) AS due,
      min(CASE WHEN status = 'sent' AND sends < ${opts.maxSends} THEN last_sent_at + make_interval(secs => ${opts.resendAfterSeconds}) END) AS next_due_at
    FROM push_commands WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid AND status IN ('queued', 'sent')
  `.execute(db);
  return { due: row.rows[0]?.due ?? false, nextDueAt: row.rows[0]?.next_due_at ?? null };
}

export interface FinishedCommand {
  id: number;
  flag_id: number | null;
  command: string;
  status: PushCommandStatus;
}

/** Records results for this terminal's own sent commands; ids of other terminals or unknown ids are ignored (and returned as such). */
export async function recordCommandResults(trx: Trx, schoolId: number, deviceId: string, results: ReadonlyArray<{ id: number; returnCode: number | null; cmd: string | null; content: string | null }>): Promise<{ recorded: FinishedCommand[]; ignored: number[] }> {
  if (results.length === 0) return { recorded: [], ignored: [] };
  // A result without a Return code is no success (docs/protocol/push.md §5): failed, and said so.
  const rows = await sql<{ id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands c SET status = CASE WHEN r.code >= 0 THEN 'succeeded' ELSE 'failed' END, return_code = r.code, result_cmd = r.cmd,
      result_content = r.content, finished_at = now(),
      failure = CASE WHEN r.code IS NULL THEN 'terminal answered without a Return code' WHEN r.code < 0 THEN 'terminal answered ' || r.code END
    FROM unnest(${results.map((r) => r.id)}::bigint[], ${results.map((r) => r.returnCode)}::int[], ${results.map((r) => r.cmd)}::text[], ${results.map((r) => r.content)}::text[]) AS r(id, code, cmd, content)
    WHERE c.school_id = ${schoolId} AND c.id = r.id AND c.device_id = ${deviceId}::uuid AND c.status IN ('sent', 'queued')
    RETURNING c.id, c.flag_id, c.command, c.status
  `.execute(trx);
  const recorded = rows.rows.map((r) => ({ id: Number(r.id), flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
  const done = new Set(recorded.map((r) => r.id));
  return { recorded, ignored: results.map((r) => r.id).filter((id) => !done.has(id)) };
}

/** Sent commands that used all their sends and whose last answer is overdue: failed (shown to staff). */
export async function failUnansweredCommands(db: DbOrTrx, schoolId: number, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number }): Promise<FinishedCommand[]> {
  const rows = await sql<{ id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands SET status = 'failed', finished_at = now(), failure = 'no answer after ' || sends || ' sends'
    WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid AND status = 'sent' AND sends >= ${opts.maxSends} AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds})
    RETURNING id, flag_id, command, status
  `.execute(db);
  return rows.rows.map((r) => ({ id: Number(r.id), flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
}

/**
 * The deadline sweep's side (channels/push/deadlines.ts): sent commands of any terminal whose
 * answer is overdue even counting the sends left (the terminal stopped polling), one answer
 * period after a poll would have failed them: failed, locked SKIP LOCKED, at most `limit`.
 */
export async function failOverdueCommands(trx: Trx, opts: { resendAfterSeconds: number; maxSends: number; limit: number }): Promise<Array<FinishedCommand & { school_id: number; device_id: string }>> {
  const rows = await sql<{ id: string; school_id: string; device_id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands c SET status = 'failed', finished_at = now(), failure = 'no answer after ' || c.sends || ' sends'
    FROM (
      SELECT id FROM push_commands
      WHERE status = 'sent'
        AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds}::float8 * (${opts.maxSends} - sends + 2))
      ORDER BY id LIMIT ${opts.limit} FOR UPDATE SKIP LOCKED
    ) overdue
    WHERE c.id = overdue.id
    RETURNING c.id, c.school_id, c.device_id, c.flag_id, c.command, c.status
  `.execute(trx);
  return rows.rows.map((r) => ({ id: Number(r.id), school_id: Number(r.school_id), device_id: r.device_id, flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
}

export async function listCommands(db: DbOrTrx, schoolId: number, deviceId: string, opts: { beforeId: number | null; limit: number }) {
  let q = db.selectFrom('push_commands').selectAll().where('school_id', '=', schoolId).where('device_id', '=', deviceId).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId !== null) q = q.where('id', '<', opts.beforeId);
  return (await q.execute()).map((c) => ({ ...c, id: Number(c.id), flag_id: c.flag_id === null ? null : Number(c.flag_id) }));
}

export async function cancelCommand(db: DbOrTrx, schoolId: number, deviceId: string, id: number): Promise<boolean> {
  const r = await db.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()` })
    .where('school_id', '=', schoolId).where('id', '=', id).where('device_id', '=', deviceId).where('status', '=', 'queued').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
