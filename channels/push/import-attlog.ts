// A PUSH ATTLOG batch (PUSH.md §4) imported by the worker's import job, like a v4 batch: inside
// the job's one transaction, its lines are checked (row codes staff can see), stored once per
// (terminal, PIN, local time), punches without in/out typed by pairing, the touched user-days
// recomputed, and the session finished with its stats. The archive is the raw body.
import type { Trx } from '../../db/database.js';
import { insertRejections, type RejectionRow } from '../../db/repositories/batch-import.js';
import { dayPunchesForPairing, insertPunches, setPunchTypes, usersByBadge } from '../../db/repositories/push-punches.js';
import type { FileImportStats, School } from '../../db/schema/index.js';
import type { Logger } from '../../shared/logger.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import { ATTLOG_FILE, bodyLines, parseAttlogLine, type AttlogPunch, type PunchType } from '../../shared/protocol/push.js';
import { TouchedDays } from '../kit/touched-days.js';

const CHUNK_ROWS = 5_000;

export interface PushImportInput {
  trx: Trx;
  logger: Logger;
  session: { id: string; receivedAt: Date; archive: Buffer };
  device: { id: string; schoolId: number; timezone: string | null };
  school: School;
  now: Date;
}

export interface PushImportResult {
  stats: Record<string, FileImportStats>;
  /** A batch of one punch is a real-time punch: its time against its arrival estimates the terminal's clock skew. */
  clockSkewSeconds: number | null;
}

type Pending = AttlogPunch & { line: number; userId: number };

export async function importAttlog(input: PushImportInput): Promise<PushImportResult> {
  const { trx, session, device, school } = input;
  const timeZone = device.timezone ?? school.timezone;
  const touched = new TouchedDays(school.id, school.timezone, school.day_end.slice(0, 5));
  const stats: FileImportStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  const rejections: RejectionRow[] = [];
  const reject = (line: number, code: RowRejectionCode) => {
    stats.rejected++;
    rejections.push({ file: ATTLOG_FILE, line, recordId: null, code });
  };

  // Lines as the terminal sent them; numbering counts every non-empty line (the n of `OK: <n>`).
  const lines = bodyLines(session.archive.toString('utf8'));
  const parsed: Array<{ line: number; punch: AttlogPunch }> = [];
  lines.forEach((text, i) => {
    stats.received++;
    const result = parseAttlogLine(text, timeZone, session.receivedAt);
    if (result.ok) parsed.push({ line: i + 1, punch: result.punch });
    else reject(i + 1, result.code);
  });

  const users = await usersByBadge(trx, device.schoolId, [...new Set(parsed.map((p) => p.punch.pin))]);
  const seen = new Set<string>();
  const inferredDays = new Set<string>();
  let chunk: Pending[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    const inserted = await insertPunches(trx, { schoolId: device.schoolId, deviceId: device.id, sessionId: session.id }, rows);
    for (const r of rows) {
      if (inserted.has(`${r.pin}\t${r.localTime}`)) {
        stats.accepted++;
        touched.add(r.userId, r.occurredAt);
        if (r.type === null) inferredDays.add(`${r.pin}\t${r.localTime.slice(0, 10)}`);
      } else {
        stats.duplicates++;
      }
    }
  };
  for (const { line, punch } of parsed) {
    const userId = users.get(punch.pin);
    // unknown_user: no user with this badge in the terminal's school (the same answer whatever other schools hold).
    if (userId === undefined) {
      reject(line, 'unknown_user');
      continue;
    }
    // The same punch twice in one batch: the second is a duplicate, as it would be in the next batch.
    const key = `${punch.pin}\t${punch.localTime}`;
    if (seen.has(key)) {
      stats.duplicates++;
      continue;
    }
    seen.add(key);
    chunk.push({ ...punch, line, userId });
    if (chunk.length >= CHUNK_ROWS) await flush();
  }
  await flush();

  for (const change of await pairInferred(trx, device.id, inferredDays)) touched.add(change.userId, change.occurredAt);
  await insertRejections(trx, session.id, rejections);
  await touched.recompute(trx, input.now);

  const only = parsed.length === 1 && lines.length === 1 ? parsed[0].punch : null;
  return {
    stats: { [ATTLOG_FILE]: stats },
    clockSkewSeconds: only ? Math.round((only.occurredAt.getTime() - session.receivedAt.getTime()) / 1000) : null,
  };
}

/**
 * Punches without in/out (PUSH.md §4): on each (PIN, terminal-local day) this batch added one to,
 * the day's punches are taken in time order; a punch with a type keeps it and sets the state,
 * an inferred one opens when nothing is open and closes otherwise. Rows whose inferred type
 * changes (a late punch arrived in between) are updated; their user-days are recomputed.
 */
async function pairInferred(trx: Trx, deviceId: string, days: ReadonlySet<string>): Promise<Array<{ userId: number; occurredAt: Date }>> {
  if (days.size === 0) return [];
  const rows = await dayPunchesForPairing(trx, deviceId, [...days].map((k) => k.split('\t') as [string, string]));
  const changes: Array<{ id: number; type: PunchType; userId: number; occurredAt: Date }> = [];
  let group = '';
  let open = false;
  for (const r of rows) {
    const g = `${r.pin}\t${r.day}`;
    if (g !== group) {
      group = g;
      open = false;
    }
    if (!r.type_inferred) {
      open = r.type === 'checkin';
      continue;
    }
    const type: PunchType = open ? 'checkout' : 'checkin';
    open = !open;
    if (type !== r.type) changes.push({ id: Number(r.id), type, userId: Number(r.user_id), occurredAt: r.occurred_at });
  }
  await setPunchTypes(trx, changes);
  return changes;
}
