// PUSH ATTLOG batches (docs/protocol/push.md §4) imported by the worker, many sessions of many terminals in one
// transaction (the import job takes every pending one: channels/push/session.ts): their lines are
// checked (row codes staff can see), stored once per (terminal, PIN, local time), punches without
// in/out typed by pairing, the touched user-days recomputed, and each session finished with its
// stats. Statements per transaction do not grow with the number of sessions: 167 real-time
// punches a second cost a few imports a second, not 167. The archive is the raw body.
import type { Trx } from '../../db/database.js';
import { insertRejections, type RejectionRow } from '../../db/repositories/batch-import.js';
import { holdPunches, pinsWithHeldPunches, storeHeldPunches, type HeldPunchRow } from '../../db/repositories/held-punches.js';
import {
  finishPushDevices, finishPushSessions, insertPunches, pairInferredTypes, pushDevices, usersByBadge, type PunchRow,
} from '../../db/repositories/push-punches.js';
import type { FileImportStats } from '../../db/schema/index.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import { ATTLOG_FILE, bodyLines, parseAttlogLine, pushText, parseRtlogLine, RTLOG_FILE, type AttlogPunch } from '../../shared/protocol/push.js';
import { recomputeTouchedDays, schoolClocks } from '../../db/repositories/user-days.js';
import { TouchedDays, type SchoolClock } from '../../shared/attendance/touched-days.js';
import { CHUNK_ROWS } from '../kit/csv-log.js';
import { excerpt } from '../../shared/csv/row-fields.js';

/** A punch arriving within this of its own time arrived as it happened (real time): see `noteRealTime`. */
export const REALTIME_WINDOW_SECONDS = 120;

export interface PushSessionToImport {
  id: string;
  device_id: string;
  received_at: Date;
  archive: Buffer;
  /** The table its archive holds: ATTLOG lines, or rtlog events (Security PUSH 3.x); null: ATTLOG. */
  push_table: 'ATTLOG' | 'rtlog' | null;
  /** The school its terminal served when it sent them: its punches are that school's, wherever the terminal is now. Null: the terminal's current one. */
  school_id: number | null;
}

export interface PushImportResult {
  sessionId: string;
  stats: FileImportStats;
  /** The terminal's clock against the arrival of its latest real-time punch in the batch (`noteRealTime`); null: none. */
  clockSkewSeconds: number | null;
}

type Pending = PunchRow & { line: number; session: SessionState };

interface SessionState {
  session: PushSessionToImport;
  /** ATTLOG or rtlog: the file its stats and row codes are reported under. */
  file: string;
  stats: FileImportStats;
  rejections: RejectionRow[];
  skew: number | null;
  /** The punch the skew was read from. */
  skewFrom: number;
}

/**
 * Imports `sessions` (in their order: a punch sent twice is counted new in the first, duplicate in
 * the later) inside `trx`, and finishes them. Sessions of a terminal that no longer exists are
 * left alone (the caller's pick only holds existing terminals' sessions).
 */
export async function importAttlogSessions(trx: Trx, sessions: readonly PushSessionToImport[], now = new Date()): Promise<PushImportResult[]> {
  const devices = await pushDevices(trx, [...new Set(sessions.map((s) => s.device_id))]);
  // Sessions sent before their terminal moved to another school: that school's clock.
  const moved = sessions.filter((s) => s.school_id !== null && s.school_id !== devices.get(s.device_id)?.school_id).map((s) => s.school_id!);
  const formerClocks = moved.length > 0 ? await schoolClocks(trx, [...new Set(moved)]) : new Map<number, SchoolClock>();
  const touched = new TouchedDays();
  const states: SessionState[] = [];
  const parsed: Array<{ state: SessionState; line: number; punch: AttlogPunch; schoolId: number }> = [];
  const held: HeldPunchRow[] = [];

  for (const session of sessions) {
    const device = devices.get(session.device_id);
    if (!device) continue;
    const rtlog = session.push_table === 'rtlog';
    const state: SessionState = { session, file: rtlog ? RTLOG_FILE : ATTLOG_FILE, stats: { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 }, rejections: [], skew: null, skewFrom: -Infinity };
    states.push(state);
    const schoolId = session.school_id ?? device.school_id;
    const former = schoolId === device.school_id ? undefined : formerClocks.get(schoolId);
    const school = former ? { timezone: former.timezone, dayEnd: former.dayEnd } : { timezone: device.school_timezone, dayEnd: device.day_end.slice(0, 5) };
    touched.school(schoolId, school);
    // The terminal's wall clock: its own zone, or its school's when it was sent.
    const timeZone = device.timezone ?? school.timezone;
    // Lines as the terminal sent them; numbering counts every non-empty line (the n of `OK: <n>`).
    const lines = bodyLines(pushText(session.archive));
    lines.forEach((text, i) => {
      const result = rtlog ? parseRtlogLine(text, timeZone, session.received_at) : parseAttlogLine(text, timeZone, session.received_at);
      // An rtlog event naming no user (door, alarm, unregistered person) is no punch: it stays in the archive, uncounted.
      if (result === null) return;
      state.stats.received++;
      if (result.ok) {
        parsed.push({ state, line: i + 1, punch: result.punch, schoolId });
      } else {
        reject(state, i + 1, result.code);
        // A suspect clock: held on the server (docs/protocol/push.md §4 "held punches") until staff release or discard it.
        if (result.code === 'in_future' && result.punch) held.push({ ...result.punch, schoolId, deviceId: session.device_id, sessionId: session.id, reason: 'in_future' });
      }
    });
  }

  const wanted = new Map<string, { schoolId: number; badge: string }>();
  for (const p of parsed) wanted.set(`${p.schoolId}\t${p.punch.pin}`, { schoolId: p.schoolId, badge: p.punch.pin });
  const users = await usersByBadge(trx, [...wanted.values()]);

  const seen = new Set<string>();
  const inferredDays = new Set<string>();
  let chunk: Pending[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    const inserted = await insertPunches(trx, rows);
    for (const r of rows) {
      if (inserted.has(`${r.deviceId}\t${r.pin}\t${r.localTime}`)) {
        r.session.stats.accepted++;
        noteRealTime(r.session, r.occurredAt);
        touched.add(r.schoolId, r.userId, r.occurredAt);
        if (r.type === null) inferredDays.add(`${r.deviceId}\t${r.pin}\t${r.localTime.slice(0, 10)}`);
      } else {
        r.session.stats.duplicates++;
      }
    }
  };
  for (const { state, line, punch, schoolId } of parsed) {
    const userId = users.get(`${schoolId}\t${punch.pin}`);
    // unknown_user: no user with this badge in the terminal's school (the same answer whatever other schools hold).
    // Held on the server (docs/protocol/push.md §4 "held punches") until staff import it as a user's.
    if (userId === undefined) {
      reject(state, line, 'unknown_user', `badge ${excerpt(punch.pin)} is not a user of this school`);
      held.push({ ...punch, schoolId, deviceId: state.session.device_id, sessionId: state.session.id, reason: 'unknown_user' });
      continue;
    }
    // The same punch twice in these batches: the later one is a duplicate, as it would be in the next batch.
    const key = `${state.session.device_id}\t${punch.pin}\t${punch.localTime}`;
    if (seen.has(key)) {
      state.stats.duplicates++;
      continue;
    }
    seen.add(key);
    chunk.push({ ...punch, schoolId, deviceId: state.session.device_id, sessionId: state.session.id, userId, line, session: state });
    if (chunk.length >= CHUNK_ROWS) await flush();
  }
  await flush();
  for (let i = 0; i < held.length; i += CHUNK_ROWS) await holdPunches(trx, held.slice(i, i + CHUNK_ROWS));
  // A badge the roster gained: punches its PIN had held in that school are imported now, once, as that user's.
  const known = [...wanted.values()].filter((w) => users.has(`${w.schoolId}\t${w.badge}`)).map((w) => ({ schoolId: w.schoolId, pin: w.badge }));
  for (const { schoolId, pin } of await pinsWithHeldPunches(trx, known)) {
    const stored = await storeHeldPunches(trx, { schoolId, pin, reason: 'unknown_user' }, users.get(`${schoolId}\t${pin}`)!, null, now);
    for (const t of stored.touched) touched.add(t.schoolId, t.userId, t.occurredAt);
  }

  for (const change of await pairInferredTypes(trx, [...inferredDays].map((k) => k.split('\t') as [string, string, string]))) touched.add(change.schoolId, change.userId, change.occurredAt);
  for (const state of states) if (state.rejections.length > 0) await insertRejections(trx, state.session.id, state.rejections);
  await recomputeTouchedDays(trx, touched, now);

  const results = states.map((s) => ({ sessionId: s.session.id, stats: s.stats, clockSkewSeconds: s.skew }));
  await finishPushSessions(trx, states.map((s) => ({ id: s.session.id, stats: { [s.file]: s.stats }, clockSkewSeconds: s.skew })));
  // Per terminal: "complete up to" its latest batch's arrival; the skew of its latest real-time punch.
  const health = new Map<string, { id: string; receivedAt: Date; clockSkewSeconds: number | null }>();
  for (const s of states) {
    const last = health.get(s.session.device_id);
    health.set(s.session.device_id, {
      id: s.session.device_id,
      receivedAt: !last || s.session.received_at > last.receivedAt ? s.session.received_at : last.receivedAt,
      clockSkewSeconds: s.skew ?? last?.clockSkewSeconds ?? null,
    });
  }
  await finishPushDevices(trx, [...health.values()]);
  return results;
}

/**
 * A punch arrives in real time when it reaches the server within REALTIME_WINDOW_SECONDS of its
 * own time (docs/protocol/push.md §5 "clock"): then its time against its arrival is the terminal's clock skew.
 * Anything further off is read as a backlog (a terminal back from an outage sends what it stored,
 * one punch or many) and says nothing about the clock; so does a punch the server already held
 * (a line sent again). A batch's latest new real-time punch gives its estimate.
 */
function noteRealTime(state: SessionState, occurredAt: Date): void {
  const skew = Math.round((occurredAt.getTime() - state.session.received_at.getTime()) / 1000);
  if (Math.abs(skew) > REALTIME_WINDOW_SECONDS || occurredAt.getTime() < state.skewFrom) return;
  state.skew = skew;
  state.skewFrom = occurredAt.getTime();
}

function reject(state: SessionState, line: number, code: RowRejectionCode, detail: string | null = null): void {
  state.stats.rejected++;
  state.rejections.push({ file: state.file, line, recordId: null, code, detail });
}
