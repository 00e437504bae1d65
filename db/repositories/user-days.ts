// Keeps `user_days` current: recomputes exactly the user-days that a write touched, inside
// the writer's transaction, with the pure rules of shared/attendance. Set-based: one query
// reads the events of every touched day, one statement upserts, one deletes emptied days.
import { sql } from 'kysely';
import { TouchedDays, type DayKey, type SchoolClock } from '../../shared/attendance/touched-days.js';
import { computeUserDay, dayClock, type AttendanceEvent, type DayClock } from '../../shared/attendance/user-day.js';
import { resolveMarks, type AuthorKind, type Mark, type MarkKind, type MarkReason, type ResolvedMark } from '../../shared/attendance/marks.js';
import { dayNumberOf } from '../../shared/time/calendar.js';
import { dayRuns } from '../../shared/time/day-runs.js';
import { LocalDayIndex } from '../../shared/time/local-day-index.js';
import { todayIn } from '../../shared/time/zoned.js';
import { arrayLiteral, quotedArrayLiteral } from '../array-literal.js';
import { fromEpochMs } from '../epoch-ms.js';
import type { DbOrTrx, Trx } from '../database.js';

export interface TouchedAttendance {
  schoolId: number;
  userId: number;
  occurredAt: Date;
}

/** 'HH:MM:SS' → 'HH:MM' */
const hhmm = (time: string) => time.slice(0, 5);

export async function schoolClocks(db: DbOrTrx, schoolIds: number[]): Promise<Map<number, SchoolClock>> {
  const rows = await db.selectFrom('schools').select(['id', 'timezone', 'day_end']).where('id', 'in', schoolIds).execute();
  return new Map(rows.map((r) => [r.id, { timezone: r.timezone, dayEnd: hhmm(r.day_end) }]));
}

/** Days between two wanted days of a user that are read rather than probed separately. */
const READ_GAP_DAYS = 7;
const dayKey = (userId: number, dayNumber: number) => userId * 100_000 + dayNumber;
/** Instants as epoch milliseconds (db/epoch-ms.ts). */
const epochMs = (d: Date | null) => (d === null ? null : d.getTime());

/**
 * The events of each wanted user-day, in order, keyed by dayKey. One range read per run of a
 * user's days (shared/time/day-runs.ts) instead of one index probe per day; events of the
 * days in between are read and dropped. LATERAL keeps this a nested loop over
 * attendances_user_time: with a plain join the planner misjudges the unnest and hash-joins the
 * whole table (measured: 0.45 s per 5,000 days). Instants travel as epoch milliseconds:
 * parsing a million timestamps into Dates was a tenth of the worker's time.
 */
async function readDayEvents(trx: Trx, days: readonly DayKey[], dayNumbers: readonly number[], clocks: Map<number, SchoolClock>) {
  const schoolOf = new Map(days.map((d) => [d.userId, d.schoolId]));
  const numbered = days.map((d, i) => ({ key: d.userId, day: dayNumbers[i] }));
  const wanted = new Set(numbered.map((d) => dayKey(d.key, d.day)));
  const runs = dayRuns(numbered, READ_GAP_DAYS);
  const zoneOf = (userId: number) => clocks.get(schoolOf.get(userId)!)!.timezone;
  // Local midnight to local midnight, DST-correct in PostgreSQL.
  const events = await sql<{ user_id: string; ms: number; type: 'checkin' | 'checkout'; clock_suspect: boolean; id: string; cancels_id: string | null }>`
    SELECT r.user_id, date_part('epoch', a.occurred_at) * 1000 AS ms, a.type, a.clock_suspect, a.id, a.cancels_id
    FROM unnest(${runs.map((r) => schoolOf.get(r.key)!)}::bigint[], ${runs.map((r) => r.key)}::bigint[],
                ${runs.map((r) => LocalDayIndex.dateOf(r.from))}::date[], ${runs.map((r) => LocalDayIndex.dateOf(r.to))}::date[],
                ${runs.map((r) => zoneOf(r.key))}::text[]) AS r(school_id, user_id, first, last, tz)
    CROSS JOIN LATERAL (
      SELECT occurred_at, type, clock_suspect, id, cancels_id FROM attendances
      WHERE school_id = r.school_id AND user_id = r.user_id
        AND occurred_at >= (r.first::timestamp AT TIME ZONE r.tz)
        AND occurred_at < ((r.last + 1)::timestamp AT TIME ZONE r.tz)
    ) a
    ORDER BY r.user_id, a.occurred_at, a.id
  `.execute(trx);

  // A withdrawn correction and the row withdrawing it share user and instant (so the day): neither counts.
  let withdrawn: Set<string> | null = null;
  for (const e of events.rows) if (e.cancels_id !== null) (withdrawn ??= new Set()).add(String(e.cancels_id));
  const indexes = new Map<string, LocalDayIndex>();
  const byDay = new Map<number, { events: AttendanceEvent[]; suspect: boolean }>();
  for (const e of events.rows) {
    if (withdrawn !== null && (e.cancels_id !== null || withdrawn.has(String(e.id)))) continue;
    const userId = Number(e.user_id);
    const zone = zoneOf(userId);
    let index = indexes.get(zone);
    if (!index) indexes.set(zone, (index = new LocalDayIndex(zone)));
    const ms = Math.round(e.ms); // float8 seconds × 1000: whole milliseconds once rounded
    const key = dayKey(userId, index.dayNumber(ms));
    if (!wanted.has(key)) continue;
    let entry = byDay.get(key);
    if (!entry) byDay.set(key, (entry = { events: [], suspect: false }));
    entry.events.push({ at: ms, type: e.type });
    entry.suspect ||= e.clock_suspect;
  }
  return byDay;
}

/**
 * The standing mark of each wanted user-day that has marks, keyed by dayKey. One probe per day
 * on marks_user_date, skipped entirely when none of the schools has a mark (the import's case).
 */
async function readDayMarks(trx: Trx, days: readonly DayKey[], dayNumbers: readonly number[], oneSchool: number | null): Promise<Map<number, ResolvedMark>> {
  const out = new Map<number, ResolvedMark>();
  const schools = [...new Set(days.map((d) => d.schoolId))];
  const inSchools = oneSchool !== null ? sql`school_id = ${oneSchool}` : sql`school_id = ANY(${schools}::bigint[])`;
  const any = await sql<{ found: boolean }>`SELECT EXISTS (SELECT 1 FROM marks WHERE ${inSchools}) AS found`.execute(trx);
  if (!any.rows[0].found) return out;
  const rows = await sql<{ id: string; user_id: string; date: string; period: string | null; mark: MarkKind; reason: MarkReason | null; author_kind: AuthorKind; staff_id: string | null; device_id: string | null; ms: number }>`
    SELECT m.id, m.user_id, m.date::text AS date, m.period, m.mark, m.reason, m.author_kind, m.staff_id, m.device_id, date_part('epoch', m.marked_at) * 1000 AS ms
    FROM unnest(${arrayLiteral(days.map((d) => d.userId))}::bigint[], ${arrayLiteral(days.map((d) => d.date))}::date[]) AS t(u, d)
    JOIN marks m ON m.user_id = t.u AND m.date = t.d${oneSchool !== null ? sql` AND m.school_id = ${oneSchool}` : sql``}
  `.execute(trx);
  const byDay = new Map<number, Mark[]>();
  const numberOf = new Map(days.map((d, i) => [`${d.userId}|${d.date}`, dayNumbers[i]]));
  for (const r of rows.rows) {
    const key = dayKey(Number(r.user_id), numberOf.get(`${Number(r.user_id)}|${r.date}`)!);
    let list = byDay.get(key);
    if (!list) byDay.set(key, (list = []));
    list.push({
      id: Number(r.id), mark: r.mark, reason: r.reason, period: r.period, authorKind: r.author_kind,
      author: r.device_id !== null ? `device:${r.device_id}` : `staff:${r.staff_id ?? 'gone'}`, markedAt: Math.round(r.ms),
    });
  }
  for (const [key, marks] of byDay) {
    const resolved = resolveMarks(marks);
    if (resolved) out.set(key, resolved);
  }
  return out;
}

const NO_DAY = { seconds: 0, firstCheckinAt: null, lastEventAt: null, lastEventType: null, openSince: null, anomalies: [] };

/** Recomputes the given user-days from their attendances and marks; answers how many rows changed. */
export async function recomputeDays(trx: Trx, days: readonly DayKey[], clocks: Map<number, SchoolClock>, now = new Date()): Promise<number> {
  if (days.length === 0) return 0;
  let changed = 0;
  const dayNumbers = days.map((d) => dayNumberOf(d.date));
  const byDay = await readDayEvents(trx, days, dayNumbers, clocks);
  // Days of one school (a v4 import, a staff write, a rebuild chunk) are read and written in it;
  // days of several (a PUSH batch, the close-open-days sweep) across them.
  const oneSchool = days.every((d) => d.schoolId === days[0].schoolId) ? days[0].schoolId : null;
  const marksByDay = await readDayMarks(trx, days, dayNumbers, oneSchool);

  const todayBySchool = new Map<number, string>();
  const dayClocks = new Map<string, DayClock>();
  const up = { school: [] as number[], user: [] as number[], date: [] as string[], seconds: [] as number[], first: [] as (number | null)[],
    last: [] as (number | null)[], lastType: [] as (string | null)[], open: [] as (number | null)[], anomalies: [] as string[], suspect: [] as boolean[],
    mark: [] as (string | null)[], reason: [] as (string | null)[], conflict: [] as (string | null)[] };
  const emptied = { user: [] as number[], date: [] as string[] };
  for (let i = 0; i < days.length; i++) {
    const day = days[i];
    const entry = byDay.get(dayKey(day.userId, dayNumbers[i]));
    const marked = marksByDay.get(dayKey(day.userId, dayNumbers[i])) ?? null;
    if (!entry && !marked) {
      emptied.user.push(day.userId);
      emptied.date.push(day.date);
      continue;
    }
    const clock = clocks.get(day.schoolId)!;
    let today = todayBySchool.get(day.schoolId);
    if (today === undefined) todayBySchool.set(day.schoolId, (today = todayIn(clock.timezone, now)));
    const clockKey = `${day.schoolId}|${day.date}`;
    let dayClockOf = dayClocks.get(clockKey);
    if (!dayClockOf) dayClocks.set(clockKey, (dayClockOf = dayClock({ date: day.date, timezone: clock.timezone, dayEnd: clock.dayEnd, now, today })));
    const ud = entry ? computeUserDay(entry.events, dayClockOf) : NO_DAY;
    up.school.push(day.schoolId);
    up.user.push(day.userId);
    up.date.push(day.date);
    up.seconds.push(ud.seconds);
    up.first.push(epochMs(ud.firstCheckinAt));
    up.last.push(epochMs(ud.lastEventAt));
    up.lastType.push(ud.lastEventType);
    up.open.push(epochMs(ud.openSince));
    // text[] per row travels as a PostgreSQL array literal; anomaly names are fixed identifiers.
    up.anomalies.push(`{${ud.anomalies.join(',')}}`);
    up.suspect.push(entry?.suspect ?? false);
    up.mark.push(marked?.mark ?? null);
    up.reason.push(marked?.reason ?? null);
    up.conflict.push(marked === null ? null : marked.disagreement ? 'teachers_disagree'
      : marked.mark === 'absent' && ud.firstCheckinAt !== null ? 'absent_but_checked_in' : null);
  }

  if (up.user.length > 0) {
    const upserted = await sql`
      INSERT INTO user_days AS ud (school_id, user_id, date, seconds, first_checkin_at, last_event_at, last_event_type, open_since, anomalies, clock_suspect, mark, mark_reason, mark_conflict, updated_at)
      SELECT s, u, d, sec, ${fromEpochMs('f')}, ${fromEpochMs('l')}, lt, ${fromEpochMs('o')}, an::text[], cs, mk, mr, mc, now()
      FROM unnest(${arrayLiteral(up.school)}::bigint[], ${arrayLiteral(up.user)}::bigint[], ${arrayLiteral(up.date)}::date[], ${arrayLiteral(up.seconds)}::int[],
                  ${arrayLiteral(up.first)}::bigint[], ${arrayLiteral(up.last)}::bigint[], ${arrayLiteral(up.lastType)}::text[],
                  ${arrayLiteral(up.open)}::bigint[], ${quotedArrayLiteral(up.anomalies)}::text[], ${arrayLiteral(up.suspect)}::boolean[],
                  ${arrayLiteral(up.mark)}::text[], ${arrayLiteral(up.reason)}::text[], ${arrayLiteral(up.conflict)}::text[])
           AS t(s, u, d, sec, f, l, lt, o, an, cs, mk, mr, mc)
      ON CONFLICT (user_id, date, school_id) DO UPDATE SET
        seconds = EXCLUDED.seconds, first_checkin_at = EXCLUDED.first_checkin_at,
        last_event_at = EXCLUDED.last_event_at, last_event_type = EXCLUDED.last_event_type, open_since = EXCLUDED.open_since,
        anomalies = EXCLUDED.anomalies, clock_suspect = EXCLUDED.clock_suspect, updated_at = now(),
        mark = EXCLUDED.mark, mark_reason = EXCLUDED.mark_reason, mark_conflict = EXCLUDED.mark_conflict,
        -- The change stamp the data mart collects by (migration 20261204_100100): whatever writes user_days sets it.
        rev = pg_current_xact_id()::text::bigint
      WHERE (ud.seconds, ud.first_checkin_at, ud.last_event_at, ud.last_event_type, ud.open_since, ud.anomalies, ud.clock_suspect, ud.mark, ud.mark_reason, ud.mark_conflict)
        IS DISTINCT FROM (EXCLUDED.seconds, EXCLUDED.first_checkin_at, EXCLUDED.last_event_at, EXCLUDED.last_event_type, EXCLUDED.open_since, EXCLUDED.anomalies, EXCLUDED.clock_suspect,
                          EXCLUDED.mark, EXCLUDED.mark_reason, EXCLUDED.mark_conflict)
    `.execute(trx);
    changed += Number(upserted.numAffectedRows ?? 0);
  }
  if (emptied.user.length > 0) {
    const deleted = await sql`
      DELETE FROM user_days ud USING unnest(${emptied.user}::bigint[], ${emptied.date}::date[]) AS t(u, d)
      WHERE ud.user_id = t.u AND ud.date = t.d${oneSchool !== null ? sql` AND ud.school_id = ${oneSchool}` : sql``}
    `.execute(trx);
    changed += Number(deleted.numAffectedRows ?? 0);
  }
  return changed;
}

/** Every user-day of a school between two local dates that has attendances or a stored row. */
export async function daysInRange(db: DbOrTrx, schoolId: number, timezone: string, from: string, to: string): Promise<DayKey[]> {
  const rows = await sql<{ user_id: number; date: string }>`
    SELECT user_id, (occurred_at AT TIME ZONE ${timezone})::date::text AS date FROM attendances
    WHERE school_id = ${schoolId}
      AND occurred_at >= (${from}::date::timestamp AT TIME ZONE ${timezone})
      AND occurred_at < ((${to}::date + 1)::timestamp AT TIME ZONE ${timezone})
    UNION
    SELECT user_id, date::text FROM user_days WHERE school_id = ${schoolId} AND date BETWEEN ${from}::date AND ${to}::date
    UNION
    SELECT user_id, date::text FROM marks WHERE school_id = ${schoolId} AND date BETWEEN ${from}::date AND ${to}::date
  `.execute(db);
  return rows.rows.map((r) => ({ schoolId, userId: Number(r.user_id), date: r.date }));
}

/**
 * User-days still open (a check-in, no check-out yet) whose local date is over in their
 * school's timezone: recomputing them closes them at day_end with `missing_checkout`.
 * Served by user_days_open (partial index): only open rows are read.
 */
export async function openPastDays(db: DbOrTrx, now: Date, limit: number): Promise<DayKey[]> {
  const rows = await sql<{ school_id: number; user_id: number; date: string }>`
    SELECT d.school_id, d.user_id, d.date::text AS date
    FROM user_days d JOIN schools s ON s.id = d.school_id
    WHERE d.open_since IS NOT NULL AND d.date < (${now}::timestamptz AT TIME ZONE s.timezone)::date
    ORDER BY d.user_id, d.date
    LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((r) => ({ schoolId: Number(r.school_id), userId: Number(r.user_id), date: r.date }));
}

export async function schoolClock(db: DbOrTrx, schoolId: number): Promise<SchoolClock | undefined> {
  return (await schoolClocks(db, [schoolId])).get(schoolId);
}

/**
 * Two transactions recomputing the same user-day would each miss the other's uncommitted
 * rows. Whoever recomputes a user's days first locks the user row (ascending ids, so two
 * writers cannot deadlock); READ COMMITTED then shows the second one the first's rows.
 * FOR NO KEY UPDATE does not block inserts that merely reference the user.
 */
export async function lockUsersForFigures(trx: Trx, userIds: Iterable<number>, schoolId: number | null = null): Promise<void> {
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  // `schoolId`: the users' one school, when they are of one.
  const inSchool = schoolId !== null ? sql`school_id = ${schoolId} AND ` : sql``;
  await sql`SELECT id FROM users WHERE ${inSchool}id = ANY(${ids}::bigint[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx);
}

/** User-days recomputed per statement: a batch's hundreds of thousands of days in a few statements. */
const RECOMPUTE_CHUNK = 5_000;

/**
 * The user-days a write touched (shared/attendance/touched-days.ts), recomputed in the caller's
 * transaction: the clocks of the schools it lacks read first, the users locked, then the days in
 * chunks, a user's days side by side so each chunk reads them as a few ranges.
 */
export async function recomputeTouchedDays(trx: Trx, touched: TouchedDays, now = new Date()): Promise<void> {
  const missing = touched.schoolsWithoutClock();
  if (missing.length > 0) for (const [id, clock] of await schoolClocks(trx, missing)) touched.school(id, clock);
  const users = touched.userIds();
  if (users.size === 0) return;
  const clocks = touched.clocks();
  await lockUsersForFigures(trx, users, clocks.size === 1 ? [...clocks.keys()][0] : null);
  let chunk: DayKey[] = [];
  for (const day of touched.days()) {
    chunk.push(day);
    if (chunk.length === RECOMPUTE_CHUNK) {
      await recomputeDays(trx, chunk, clocks, now);
      chunk = [];
    }
  }
  await recomputeDays(trx, chunk, clocks, now);
}

/** These user-days (a mark's), recomputed in the caller's transaction, as an import does. */
export async function refreshDays(trx: Trx, keys: readonly DayKey[], now = new Date()): Promise<void> {
  const days = new TouchedDays();
  for (const k of keys) days.addDay(k.schoolId, k.userId, k.date);
  await recomputeTouchedDays(trx, days, now);
}

/** The user-days of these attendances, recomputed in the caller's transaction. */
export async function refreshUserDays(trx: Trx, touched: readonly TouchedAttendance[], now = new Date()): Promise<void> {
  const days = new TouchedDays();
  for (const t of touched) days.add(t.schoolId, t.userId, t.occurredAt);
  await recomputeTouchedDays(trx, days, now);
}
