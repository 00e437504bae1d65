// The user-days a write touched: each attendance counts on its user's local day in its school's
// timezone (docs/DESIGN.md §4), and each touched user-day is recomputed once. One collector for
// every writer (a v4 batch, PUSH sessions of many schools, a staff edit, held punches imported);
// db/repositories/user-days.ts recomputeTouchedDays reads the clocks it lacks and recomputes.
// A day is kept as a number (user id × 100 000 + local day number) in a typed array per school,
// so a million-row batch costs a few megabytes (a Set of 500,000 numbers held ~15 MiB of the
// worker's peak), then sorted and deduplicated.
import { dayNumberOf } from '../time/calendar.js';
import { LocalDayIndex } from '../time/local-day-index.js';

export interface SchoolClock {
  timezone: string;
  /** 'HH:MM' */
  dayEnd: string;
}

export interface DayKey {
  schoolId: number;
  userId: number;
  date: string;
}

const DAY_SPAN = 100_000;
/** Keys deduplicated in a small Set before they reach the array: a user's rows of one day come close together. */
const RECENT_LIMIT = 8_192;

/** One school's touched days. */
class SchoolDays {
  private keys = new Float64Array(1_024);
  private length = 0;
  private readonly recent = new Set<number>();
  readonly index: LocalDayIndex;

  constructor(readonly clock: SchoolClock) {
    this.index = new LocalDayIndex(clock.timezone);
  }

  add(key: number): void {
    this.recent.add(key);
    if (this.recent.size >= RECENT_LIMIT) this.spill();
  }

  /** Every key once, in numeric order: a user's days side by side. */
  distinctKeys(): Float64Array {
    this.spill();
    const sorted = this.keys.subarray(0, this.length).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
    this.length = n;
    return sorted.subarray(0, n);
  }

  /**
   * Keys of another set (`distinctKeys`), appended as they are: no Set per key, and the array
   * grown once (a million-row batch's merge, one key at a time, was the worker's peak: bench `memory`).
   */
  addAll(keys: Float64Array, only?: ReadonlySet<number>): void {
    this.spill();
    this.reserve(keys.length);
    if (!only) {
      this.keys.set(keys, this.length);
      this.length += keys.length;
      return;
    }
    for (const key of keys) if (only.has(Math.floor(key / DAY_SPAN))) this.keys[this.length++] = key;
  }

  private spill(): void {
    this.reserve(this.recent.size);
    for (const key of this.recent) this.keys[this.length++] = key;
    this.recent.clear();
  }

  private reserve(more: number): void {
    if (this.length + more <= this.keys.length) return;
    const grown = new Float64Array(Math.max(this.keys.length * 2, this.length + more));
    grown.set(this.keys.subarray(0, this.length));
    this.keys = grown;
  }
}

export class TouchedDays {
  private readonly schools = new Map<number, SchoolDays>();
  /** Attendances of schools whose clock is not known yet (`schoolsWithoutClock`). */
  private pending: Array<{ schoolId: number; userId: number; ms: number }> = [];
  /** Local days (`addDay`) of schools whose clock is not known yet. */
  private pendingDays: Array<{ schoolId: number; key: number }> = [];
  private lastId = NaN;
  private last: SchoolDays | undefined;

  /** A school's clock, which says its local days; the first one given for a school is kept. */
  school(schoolId: number, clock: SchoolClock): this {
    if (!this.schools.has(schoolId)) this.schools.set(schoolId, new SchoolDays(clock));
    return this;
  }

  add(schoolId: number, userId: number, occurredAt: Date): void {
    const days = schoolId === this.lastId ? this.last : this.schools.get(schoolId);
    if (!days) {
      this.pending.push({ schoolId, userId, ms: occurredAt.getTime() });
      return;
    }
    this.lastId = schoolId;
    this.last = days;
    days.add(userId * DAY_SPAN + days.index.dayNumber(occurredAt.getTime()));
  }

  /** A user's local day itself (a mark's): kept with the school's days, its clock read later if not given. */
  addDay(schoolId: number, userId: number, date: string): void {
    const key = userId * DAY_SPAN + dayNumberOf(date);
    const days = this.schools.get(schoolId);
    if (days) days.add(key);
    else this.pendingDays.push({ schoolId, key });
  }

  /** An empty set with the same clocks, to be merged in once its rows are known to be stored. */
  fork(): TouchedDays {
    const fork = new TouchedDays();
    for (const [id, days] of this.schools) fork.school(id, days.clock);
    return fork;
  }

  /** Adds the user-days of `other` (a fork); with `only`, those of these users alone. */
  merge(other: TouchedDays, only?: ReadonlySet<number>): void {
    for (const [id, theirs] of other.schools) {
      this.school(id, theirs.clock).schools.get(id)!.addAll(theirs.distinctKeys(), only);
    }
    for (const p of other.pending) if (!only || only.has(p.userId)) this.pending.push(p);
    for (const p of other.pendingDays) if (!only || only.has(Math.floor(p.key / DAY_SPAN))) this.pendingDays.push(p);
  }

  /** Schools of attendances added before their clock was given: the caller reads them and gives them (`school`). */
  schoolsWithoutClock(): number[] {
    this.settle();
    return [...new Set([...this.pending, ...this.pendingDays].map((p) => p.schoolId))];
  }

  clocks(): Map<number, SchoolClock> {
    return new Map([...this.schools].map(([id, days]) => [id, days.clock]));
  }

  /** The users of the touched days (attendances of a school never given a clock left out, as in `days`). */
  userIds(): Set<number> {
    this.settle();
    const users = new Set<number>();
    for (const days of this.schools.values()) for (const key of days.distinctKeys()) users.add(Math.floor(key / DAY_SPAN));
    return users;
  }

  /** Every touched user-day once, school by school, a user's days in date order. */
  *days(): Generator<DayKey> {
    this.settle();
    for (const [schoolId, days] of this.schools) {
      for (const key of days.distinctKeys()) yield { schoolId, userId: Math.floor(key / DAY_SPAN), date: LocalDayIndex.dateOf(key % DAY_SPAN) };
    }
  }

  /** Pending attendances whose school's clock is known now join its days. */
  private settle(): void {
    if (this.pendingDays.length > 0) {
      const waiting: typeof this.pendingDays = [];
      for (const p of this.pendingDays) {
        const days = this.schools.get(p.schoolId);
        if (days) days.add(p.key);
        else waiting.push(p);
      }
      this.pendingDays = waiting;
    }
    if (this.pending.length === 0) return;
    const still: typeof this.pending = [];
    for (const p of this.pending) {
      const days = this.schools.get(p.schoolId);
      if (days) days.add(p.userId * DAY_SPAN + days.index.dayNumber(p.ms));
      else still.push(p);
    }
    this.pending = still;
  }
}
