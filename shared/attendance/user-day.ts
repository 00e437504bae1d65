// Pairs one user's check-ins and check-outs of one school day into a user-day (DESIGN §4).
import { localDateOf, localTimeOnDate, startOfLocalDay, todayIn } from '../time/zoned.js';
import { addDays } from '../time/calendar.js';

export type EventType = 'checkin' | 'checkout';
export type Anomaly = 'double_checkin' | 'orphan_checkout' | 'missing_checkout';

/** Anomalies are reported in this order, each at most once. */
export const ANOMALIES: readonly Anomaly[] = ['double_checkin', 'orphan_checkout', 'missing_checkout'];

export interface AttendanceEvent {
  at: Date | number;
  type: EventType;
}

export interface DayContext {
  /** The school day, 'YYYY-MM-DD' in the school's timezone. */
  date: string;
  timezone: string;
  /** The school's day_end, 'HH:MM'. */
  dayEnd: string;
  now: Date;
  /** `todayIn(timezone, now)`, when the caller already has it. */
  today?: string;
  /** The school's late_after, 'HH:MM'; null or absent: no lateness by the clock. */
  lateAfter?: string | null;
}

export interface UserDay {
  /**
   * Closed time only, whole seconds (floored). An interval still open today is not in
   * here but in `openSince`, so a stored row never goes stale; use `secondsAt` to read it.
   */
  seconds: number;
  firstCheckinAt: Date | null;
  lastEventAt: Date | null;
  lastEventType: EventType | null;
  /** Start of the interval still open; null for past days (closed at day_end instead). */
  openSince: Date | null;
  anomalies: Anomaly[];
}

export type DayKind = 'past' | 'today' | 'future';

/** What reading or computing a user-day needs about its date, computed once per date and reused. */
export interface DayClock {
  date: string;
  timezone: string;
  kind: DayKind;
  nowMs: number;
  dayEndMs: number;
  /** The local day's first instant, and the next day's. */
  startMs: number;
  nextStartMs: number;
  /** The school's late_after on this date; null: none. */
  lateAfterMs: number | null;
}

export function dayClock(ctx: DayContext): DayClock {
  const today = ctx.today ?? todayIn(ctx.timezone, ctx.now);
  const kind: DayKind = ctx.date < today ? 'past' : ctx.date === today ? 'today' : 'future';
  return {
    date: ctx.date,
    timezone: ctx.timezone,
    kind,
    nowMs: ctx.now.getTime(),
    dayEndMs: localTimeOnDate(ctx.date, ctx.dayEnd, ctx.timezone).getTime(),
    startMs: startOfLocalDay(ctx.date, ctx.timezone).getTime(),
    nextStartMs: startOfLocalDay(addDays(ctx.date, 1), ctx.timezone).getTime(),
    lateAfterMs: ctx.lateAfter ? localTimeOnDate(ctx.date, ctx.lateAfter, ctx.timezone).getTime() : null,
  };
}

function toMs(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Invalid event time');
  return ms;
}

/**
 * Milliseconds an interval open since `openMs` adds on its day:
 * today up to now; a past day up to day_end (nothing if it opened at or after day_end);
 * a future day (device clock ahead) nothing yet.
 */
function openPartMs(openMs: number, clock: DayClock): number {
  if (clock.kind === 'today') return Math.max(0, clock.nowMs - openMs);
  if (clock.kind === 'past') return Math.max(0, clock.dayEndMs - openMs);
  return 0;
}

/**
 * Pairs the events of one user on `ctx.date`. The caller passes only events whose local
 * date in the school's timezone is `ctx.date` (see `groupByLocalDate`); any other event is
 * a caller bug and throws. Events are sorted here by time, ties kept in input order.
 */
export function computeUserDay(events: readonly AttendanceEvent[], at: DayContext | DayClock): UserDay {
  // A batch recomputes thousands of user-days on a few dozen dates: callers pass each date's clock.
  const clock = 'kind' in at ? at : dayClock(at);
  const dayStart = clock.startMs;
  const nextDayStart = clock.nextStartMs;
  const sorted = events
    .map((e) => ({ ms: toMs(e.at), type: e.type }))
    .sort((a, b) => a.ms - b.ms); // Array.prototype.sort is stable: ties keep input order

  const found = new Set<Anomaly>();
  let closedMs = 0;
  let open: number | null = null;
  let firstCheckin: number | null = null;
  for (const e of sorted) {
    if (e.ms < dayStart || e.ms >= nextDayStart) {
      throw new RangeError(`Event at ${new Date(e.ms).toISOString()} is not on ${clock.date} in ${clock.timezone}`);
    }
    if (e.type === 'checkin') {
      if (open !== null) found.add('double_checkin'); // the first check-in stands
      else open = e.ms;
      firstCheckin ??= e.ms;
    } else if (open === null) {
      found.add('orphan_checkout'); // nothing to close: ignored
    } else {
      closedMs += e.ms - open;
      open = null;
    }
  }

  let openSince: Date | null = null;
  if (open !== null) {
    if (clock.kind === 'past') {
      closedMs += openPartMs(open, clock);
      found.add('missing_checkout');
    } else {
      // Today or a future date: left open; readers add the live part (`secondsAt`).
      openSince = new Date(open);
    }
  }

  const last = sorted.at(-1);
  return {
    seconds: Math.floor(closedMs / 1000),
    firstCheckinAt: firstCheckin === null ? null : new Date(firstCheckin),
    lastEventAt: last ? new Date(last.ms) : null,
    lastEventType: last ? last.type : null,
    openSince,
    anomalies: ANOMALIES.filter((a) => found.has(a)),
  };
}

/**
 * Seconds accumulated on the user-day's date as seen at `now`: stored closed seconds plus
 * the open interval (today: up to now). A row still open on a date now past — stored while
 * it was today and not recomputed since — is closed at day_end here, as the worker would.
 */
export function secondsAt(day: Pick<UserDay, 'seconds' | 'openSince'>, at: DayContext | DayClock): number {
  if (day.openSince === null) return day.seconds;
  const clock = 'kind' in at ? at : dayClock(at);
  return day.seconds + Math.floor(openPartMs(day.openSince.getTime(), clock) / 1000);
}

/** Groups events by their local date in `tz`, keeping input order within each date. */
export function groupByLocalDate<E extends AttendanceEvent>(events: readonly E[], tz: string): Map<string, E[]> {
  const out = new Map<string, E[]>();
  for (const e of events) {
    const date = localDateOf(e.at, tz);
    const list = out.get(date);
    if (list) list.push(e);
    else out.set(date, [e]);
  }
  return out;
}
