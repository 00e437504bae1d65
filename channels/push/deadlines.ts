// Commands a terminal never answered because it stopped polling (docs/protocol/push.md §5: "a command without a
// result by its deadline is sent again, a bounded number of times, then failed and shown to
// staff"). A terminal that polls has its overdue commands failed at that poll (api/push/getrequest.ts);
// this sweep, run by the worker with the roster loop, fails those of silent terminals too, so a
// flag does not stay "delivered" for as long as its terminal is off.
import type { Db } from '../../db/database.js';
import { failOverdueCommands } from '../../db/repositories/push/commands.js';
import { failFlag } from '../../db/repositories/push/flag-commands.js';
import type { Logger } from '../../shared/logger.js';

const COMMANDS_PER_RUN = 500;

export async function failSilentTerminalsCommands(db: Db, logger: Logger, opts: { resendAfterSeconds: number; maxSends: number }): Promise<number> {
  const failed = await db.transaction().execute(async (trx) => {
    const rows = await failOverdueCommands(trx, { ...opts, limit: COMMANDS_PER_RUN });
    for (const command of rows) if (command.flag_id !== null) await failFlag(trx, command.school_id, command.device_id, { ...command, flag_id: command.flag_id });
    return rows;
  });
  if (failed.length > 0) logger.warn({ commands: failed.map((c) => c.id) }, 'push: commands failed, their terminals silent past the deadline');
  return failed.length;
}
