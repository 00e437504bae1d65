// Command results (POST /iclock/devicecmd, docs/protocol/push.md §5): one per ID= line; a result
// may span several lines (shared/protocol/push.ts).
import { recordCommandResults } from '../../db/repositories/push/commands.js';
import { recordOptions } from '../../db/repositories/push/terminals.js';
import { parseCommandResults, parseOptions } from '../../shared/protocol/push.js';
import { bodyText, PushAnswer, serialOf } from './answer.js';
import { commandFinished } from './commands.js';
import type { PushHandler, PushRoutes } from './route.js';

const devicecmd: PushHandler = async (req, { ctx, access }) => {
  const { db, logger } = ctx;
  const sn = serialOf(req);
  // Results are applied only from where the terminal is: a stranger cannot mark its commands done.
  const terminal = await access.admit(await access.find(sn), req);
  ctx.push.noteSeen(sn, req.address);
  const results = parseCommandResults(bodyText(req));
  const { ignored } = await db.transaction().execute(async (trx) => {
    const outcome = await recordCommandResults(trx, terminal.school_id, terminal.device_id, results);
    for (const command of outcome.recorded) await commandFinished(trx, terminal.school_id, terminal.device_id, command);
    // INFO answers the terminal's settings on the lines after its result: kept like an options upload.
    const mine = new Set(outcome.recorded.filter((c) => c.status === 'succeeded' && /^INFO\b/i.test(c.command)).map((c) => c.id));
    for (const r of results) if (mine.has(r.id) && r.content) await recordOptions(trx, { schoolId: terminal.school_id, serialNumber: sn }, parseOptions(r.content));
    return outcome;
  });
  // Ids of another terminal's commands, unknown ids, or results already recorded: answered OK
  // (the terminal would resend them forever otherwise) and changing nothing.
  if (ignored.length > 0) logger.warn({ sn, ignored }, 'push: devicecmd results for no command of this terminal');
  return new PushAnswer(200, 'OK');
};

export function commandResultRoutes(push: PushRoutes): void {
  push.add({ method: 'POST', path: 'devicecmd', summary: 'Command results', handler: devicecmd });
}
