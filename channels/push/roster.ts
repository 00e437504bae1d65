// The roster on PUSH terminals (docs/protocol/push.md §5): when users of a school change, each of its enabled
// PUSH terminals gets `DATA UPDATE USERINFO` for users added or changed and `DATA DELETE
// USERINFO` for users deactivated. Versions are the roster's transaction-id horizon, as for v4
// devices (db/repositories/roster.ts): a terminal's roster_version is the horizon its commands
// were queued at, 0 before its first roster (then it gets every active user). The worker runs
// this every PUSH_ROSTER_SECONDS; terminals are locked SKIP LOCKED, so several workers share it.
import type { Db } from '../../db/database.js';
import { queueCommands } from '../../db/repositories/push/commands.js';
import { setTerminalRosterVersion, terminalsBehindRoster } from '../../db/repositories/push/terminal-users.js';
import { notifyTerminal } from '../../db/repositories/push/terminals.js';
import { rosterHorizon, rosterUsers } from '../../db/repositories/roster.js';
import type { Logger } from '../../shared/logger.js';
import { rosterCommands } from '../../shared/protocol/push-commands.js';
import { failSilentTerminalsCommands } from './deadlines.js';
import { queueTimeZoneChanges } from './timezones.js';

const TERMINALS_PER_RUN = 200;

export async function queueRosterChanges(db: Db, logger: Logger): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const horizon = await rosterHorizon(trx);
    const terminals = await terminalsBehindRoster(trx, horizon, TERMINALS_PER_RUN);
    let queued = 0;
    for (const t of terminals) {
      const since = Number(t.roster_version);
      const users = await rosterUsers(trx, t.school_id, since === 0 ? null : since);
      const commands = rosterCommands(users, { firstRoster: since === 0 }).map((command) => ({ source: 'roster' as const, command }));
      await queueCommands(trx, t.device_id, commands);
      await setTerminalRosterVersion(trx, t.school_id, t.serial_number, horizon);
      if (commands.length > 0) await notifyTerminal(trx, { deviceId: t.device_id });
      queued += commands.length;
    }
    if (queued > 0) logger.info({ terminals: terminals.length, commands: queued }, 'push: roster changes queued');
    return queued;
  });
}

/**
 * Runs `queueRosterChanges` every `seconds` until stopped, and with it the terminals' UTC offset
 * after a DST change (channels/push/timezones.ts) and the deadline sweep of
 * commands (channels/push/deadlines.ts) when `commands` says how long answers may take.
 */
export function startRosterLoop(db: Db, logger: Logger, seconds: number, commands?: { resendAfterSeconds: number; maxSends: number }): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => queueRosterChanges(db, logger)).catch((err: Error) => logger.warn({ err: err.message }, 'push: roster changes not queued'));
    running = running.then(() => queueTimeZoneChanges(db, logger)).catch((err: Error) => logger.warn({ err: err.message }, 'push: new UTC offsets not queued'));
    if (commands) running = running.then(() => failSilentTerminalsCommands(db, logger, commands)).catch((err: Error) => logger.warn({ err: err.message }, 'push: command deadlines not swept'));
  }, seconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
