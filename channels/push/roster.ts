// The roster on PUSH terminals (PUSH.md §5): when users of a school change, each of its enabled
// PUSH terminals gets `DATA UPDATE USERINFO` for users added or changed and `DATA DELETE
// USERINFO` for users deactivated. Versions are the roster's transaction-id horizon, as for v4
// devices (db/repositories/roster.ts): a terminal's roster_version is the horizon its commands
// were queued at, 0 before its first roster (then it gets every active user). The worker runs
// this every PUSH_ROSTER_SECONDS; terminals are locked SKIP LOCKED, so several workers share it.
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { notifyTerminal, queueCommands } from '../../db/repositories/push.js';
import { rosterHorizon, rosterUsers } from '../../db/repositories/roster.js';
import type { Logger } from '../../shared/logger.js';
import { userDelete, userUpdate } from '../../shared/protocol/push.js';

const TERMINALS_PER_RUN = 200;

export async function queueRosterChanges(db: Db, logger: Logger): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const horizon = await rosterHorizon(trx);
    const terminals = await sql<{ serial_number: string; device_id: string; school_id: number; roster_version: string }>`
      SELECT t.serial_number, t.device_id, d.school_id, t.roster_version
      FROM push_terminals t JOIN devices d ON d.id = t.device_id
      WHERE d.disabled_at IS NULL AND t.roster_version < ${horizon}
        AND EXISTS (SELECT 1 FROM users u WHERE u.school_id = d.school_id AND u.roster_xid >= t.roster_version)
      ORDER BY t.serial_number
      LIMIT ${TERMINALS_PER_RUN}
      FOR UPDATE OF t SKIP LOCKED
    `.execute(trx);
    let queued = 0;
    for (const t of terminals.rows) {
      const since = Number(t.roster_version);
      const users = await rosterUsers(trx, t.school_id, since === 0 ? null : since);
      // A first roster carries the active users only: there is nothing to delete on the terminal yet.
      const commands = users.filter((u) => since !== 0 || u.active)
        .map((u) => ({ source: 'roster' as const, command: u.active ? userUpdate(u) : userDelete(u) }));
      await queueCommands(trx, t.device_id, commands);
      await trx.updateTable('push_terminals').set({ roster_version: horizon }).where('serial_number', '=', t.serial_number).execute();
      if (commands.length > 0) await notifyTerminal(trx, { deviceId: t.device_id });
      queued += commands.length;
    }
    if (queued > 0) logger.info({ terminals: terminals.rows.length, commands: queued }, 'push: roster changes queued');
    return queued;
  });
}

/** Runs `queueRosterChanges` every `seconds` until stopped. */
export function startRosterLoop(db: Db, logger: Logger, seconds: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => queueRosterChanges(db, logger)).catch((err: Error) => logger.warn({ err: err.message }, 'push: roster changes not queued'));
  }, seconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
