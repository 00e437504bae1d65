// Which days a school is open (DESIGN §4 "Open days"), pure. The effective calendar of a
// school is its school days of the week, its own dated entries and those of the shared
// (regional) calendar it subscribes to; the caller loads them, this decides per date.
import { isoWeekday } from '../time/calendar.js';
import { DEFAULT_SCHOOL_DAYS } from './presence.js';

/**
 * - term: the school is open within it (school year, a term); once any term exists, a day in
 *   no term is closed (`out_of_term`).
 * - holiday, public_holiday, closure: closed on every day of the range, whatever the terms say.
 */
export type EntryKind = 'term' | 'holiday' | 'public_holiday' | 'closure';
export const ENTRY_KINDS: readonly EntryKind[] = ['term', 'holiday', 'public_holiday', 'closure'];

export interface CalendarEntry {
  kind: EntryKind;
  label: string;
  /** 'YYYY-MM-DD', both included. */
  startsOn: string;
  endsOn: string;
}

/**
 * Why a day is not counted. `not_begun`: after today, so nobody can be judged on it yet;
 * `no_data`: an open day before the school's records_from (DESIGN §4 "Counted days").
 */
export type SkipReason = 'not_a_school_day' | 'out_of_term' | 'holiday' | 'public_holiday' | 'closure' | 'not_begun' | 'no_data';
export const SKIP_REASONS: readonly SkipReason[] = ['not_a_school_day', 'out_of_term', 'holiday', 'public_holiday', 'closure', 'not_begun', 'no_data'];

export type DayOpening = { open: true } | { open: false; reason: Exclude<SkipReason, 'not_begun' | 'no_data'>; label: string };

const OPEN: DayOpening = { open: true };
/** When several closed entries cover a day, the most specific names it. */
const CLOSING_ORDER: ReadonlyArray<Exclude<EntryKind, 'term'>> = ['closure', 'public_holiday', 'holiday'];
const WEEKDAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export class SchoolCalendar {
  private readonly schoolDays: readonly number[];
  private readonly terms: CalendarEntry[];
  private readonly closing: CalendarEntry[];
  private readonly cache = new Map<string, DayOpening>();

  constructor(schoolDays: readonly number[] = DEFAULT_SCHOOL_DAYS, entries: readonly CalendarEntry[] = []) {
    this.schoolDays = schoolDays;
    this.terms = entries.filter((e) => e.kind === 'term');
    this.closing = CLOSING_ORDER.flatMap((kind) => entries.filter((e) => e.kind === kind));
  }

  /**
   * Open when the weekday is a school day, the date lies in a term (if any term is defined)
   * and no holiday, public holiday or closure covers it. A closed day says why, with the
   * entry's label ("Christmas holidays") or the weekday ("Saturday").
   */
  opening(date: string): DayOpening {
    let hit = this.cache.get(date);
    if (hit === undefined) {
      hit = this.resolve(date);
      this.cache.set(date, hit);
    }
    return hit;
  }

  isOpen(date: string): boolean {
    return this.opening(date).open;
  }

  private resolve(date: string): DayOpening {
    const closed = this.closing.find((e) => e.startsOn <= date && date <= e.endsOn);
    if (closed) return { open: false, reason: closed.kind as Exclude<EntryKind, 'term'>, label: closed.label };
    const weekday = isoWeekday(date);
    if (!this.schoolDays.includes(weekday)) return { open: false, reason: 'not_a_school_day', label: WEEKDAY_NAMES[weekday] };
    if (this.terms.length > 0 && !this.terms.some((e) => e.startsOn <= date && date <= e.endsOn)) {
      return { open: false, reason: 'out_of_term', label: 'Outside the terms' };
    }
    return OPEN;
  }
}
