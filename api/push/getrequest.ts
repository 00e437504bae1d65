// The poll (GET /iclock/getrequest, docs/protocol/push.md §5), every terminal every few seconds:
// the hottest call, answered from memory when nothing is due (api/push/poll-cache.ts).
import { failUnansweredCommands, hasCommandsDue, hasOpenCommands, takeCommandsToSend } from '../../db/repositories/push/commands.js';
import { recordOptions } from '../../db/repositories/push/terminals.js';
import type { AppContext } from '../context/context.js';
import { DISABLED, IDLE, PushAnswer, serialOf } from './answer.js';
import { commandFinished, markFlagsDelivered } from './commands.js';
import type { PushHandler, PushRoutes } from './route.js';

/** Commands sent per poll at most: a terminal answers them in one devicecmd. */
const COMMANDS_PER_POLL = 20;

export function pollRoutes(push: PushRoutes): void {
  const getrequest: PushHandler = async (req, { ctx, access }) => {
    const { db, logger, push: cache } = ctx;
    const resend = { resendAfterSeconds: ctx.config.pushCommandAnswerSeconds, maxSends: ctx.config.pushCommandMaxSends };
    const sn = serialOf(req);
    const address = req.address;
    const terminal = await access.lookup(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (!terminal?.device_id) return new PushAnswer(200, 'OK');
    // Held (another address, or without its token): no command, so no roster, leaves for it.
    const { school_id: schoolId } = await access.admit(terminal, req);
    cache.noteSeen(sn, address);
    // Some firmware report themselves on every poll: INFO=<firmware>,<users>,<fingerprints>,<punches>,<ip>,…
    const info = req.query.get('INFO');
    if (info !== null) await noteInfo(ctx, schoolId, sn, info);
    const deviceId = terminal.device_id;
    if (cache.isIdle(deviceId)) return IDLE;
    const ticket = cache.ticket(deviceId);
    // Most misses find nothing open at all: one indexed read, then idle again.
    if (!(await hasOpenCommands(db, schoolId, deviceId))) {
      cache.markIdle(deviceId, ticket, null);
      return IDLE;
    }
    // Commands sent their last time and still unanswered are failed here, where they are seen (shown to staff).
    const failed = await db.transaction().execute(async (trx) => {
      const rows = await failUnansweredCommands(trx, schoolId, deviceId, resend);
      for (const command of rows) await commandFinished(trx, schoolId, deviceId, command);
      return rows;
    });
    if (failed.length > 0) logger.warn({ sn, failed: failed.map((c) => c.id) }, 'push: commands failed without an answer');
    const commands = await takeCommandsToSend(db, schoolId, deviceId, { ...resend, limit: COMMANDS_PER_POLL });
    await markFlagsDelivered(db, commands.flatMap((c) => (c.flag_id === null ? [] : [c.flag_id])));
    if (commands.length === 0) {
      const { nextDueAt } = await hasCommandsDue(db, schoolId, deviceId, resend);
      cache.markIdle(deviceId, ticket, nextDueAt ? nextDueAt.getTime() : null);
      return IDLE;
    }
    logger.info({ sn, commands: commands.map((c) => c.id) }, 'push: commands sent');
    // docs/protocol/push.md §5: an answer holding one command ends without a newline (strict clients reject `C:17:INFO\n`).
    const lines = commands.map((c) => `C:${c.id}:${c.command}`);
    return new PushAnswer(200, lines.length === 1 ? lines[0] : `${lines.join('\n')}\n`);
  };

  // What a terminal reports in INFO=, kept at most every ten minutes per terminal.
  const infoNoted = new Map<string, number>();
  const noteInfo = async (ctx: AppContext, schoolId: number, sn: string, info: string) => {
    const now = Date.now();
    if ((infoNoted.get(sn) ?? 0) > now - 600_000) return;
    if (infoNoted.size > 100_000) infoNoted.clear();
    infoNoted.set(sn, now);
    const [firmware, users, fingerprints, punches, ip] = info.split(',').map((s) => s.trim().slice(0, 64));
    await recordOptions(ctx.db, { schoolId, serialNumber: sn }, Object.fromEntries(Object.entries({ FWVersion: firmware, UserCount: users, FPCount: fingerprints, TransactionCount: punches, IPAddress: ip })
      .filter((e): e is [string, string] => Boolean(e[1]))));
  };

  push.add({ method: 'GET', path: 'getrequest', summary: 'The poll: commands due, or OK', handler: getrequest });
}
