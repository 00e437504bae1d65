// A PUSH terminal reads its UTC offset only in the TimeZone= of its handshake (docs/protocol/push.md §3), and a
// terminal in real-time mode may not handshake again for weeks: at a DST change (or when staff
// change its timezone) it would keep writing punches an hour off. The offset each terminal was
// last given is remembered (push_terminals.timezone_offset_sent); the worker compares it with
// the offset now every PUSH_ROSTER_SECONDS and, when they differ, queues `SET OPTION
// TimeZone=<n>` and `CHECK` (the terminal reloads its options, TimeZone= and the server's clock
// with them; firmware that refuses SET OPTION still reloads). Terminals are locked SKIP LOCKED,
// so several workers share the work.
import type { Db } from '../../db/database.js';
import { queueCommands } from '../../db/repositories/push/commands.js';
import { noteTimeZoneSent, notifyTerminal, terminalsWithStaleTimeZone } from '../../db/repositories/push/terminals.js';
import type { Logger } from '../../shared/logger.js';
import { pushTimeZone } from '../../shared/protocol/push.js';
import { timeZoneCommands } from '../../shared/protocol/push-commands.js';

const TERMINALS_PER_RUN = 200;

export async function queueTimeZoneChanges(db: Db, logger: Logger, now = new Date()): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let queued = 0;
    // PostgreSQL picks the candidates; the offset sent is the one the handshake computes (luxon), so the choice is made again here.
    for (const t of await terminalsWithStaleTimeZone(trx, TERMINALS_PER_RUN)) {
      const zone = pushTimeZone(t.timezone, now);
      if (zone.minutes === t.timezone_offset_sent) continue;
      await queueCommands(trx, t.device_id, timeZoneCommands(zone.option).map((command) => ({ source: 'clock' as const, command })));
      await noteTimeZoneSent(trx, t.school_id, t.serial_number, zone.minutes);
      await notifyTerminal(trx, { deviceId: t.device_id });
      queued++;
    }
    if (queued > 0) logger.info({ terminals: queued }, 'push: new UTC offset queued (DST change or new timezone)');
    return queued;
  });
}
