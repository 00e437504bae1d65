// The import job's PUSH branch (worker/import/import-session.ts dispatches here): a PUSH session
// has no status flag or package — its `OK` was the acknowledgement — so once its rows are in,
// the session is finished as imported and acknowledged, and the terminal's health updated:
// last sync, clock skew from a real-time punch, and "complete up to" its arrival (a terminal
// in real-time mode sends every punch it holds at each upload).
import type { Trx } from '../../db/database.js';
import { finishPushImport, pushDevice } from '../../db/repositories/push-punches.js';
import { finishSession } from '../../db/repositories/sync.js';
import type { School } from '../../db/schema/index.js';
import type { Logger } from '../../shared/logger.js';
import { CLOCK_SUSPECT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import { importAttlog } from './import-attlog.js';

export async function importPushSession(input: {
  trx: Trx; logger: Logger;
  session: { id: string; device_id: string; received_at: Date; archive: Buffer };
  school: School;
}): Promise<void> {
  const { trx, session, school } = input;
  const device = await pushDevice(trx, session.device_id);
  const now = new Date();
  const result = await importAttlog({
    trx, logger: input.logger, now, school,
    session: { id: session.id, receivedAt: session.received_at, archive: session.archive },
    device: { id: device.id, schoolId: device.school_id, timezone: device.timezone },
  });
  await finishSession(trx, session.id, { outcome: 'imported', stats: result.stats, package: null, package_sha256: null, clock_skew_seconds: result.clockSkewSeconds });
  await finishPushImport(trx, session.id, device.id, session.received_at, result.clockSkewSeconds);
  if (result.clockSkewSeconds !== null && Math.abs(result.clockSkewSeconds) > CLOCK_SUSPECT_SKEW_SECONDS) {
    input.logger.warn({ deviceId: device.id, skew: result.clockSkewSeconds }, 'push: terminal clock off');
  }
}
