// Marks (DESIGN §4 "Marks"): attendance stated by a teacher's roll call or by staff instead of
// measured. Pure: which of a user-day's marks stands, and what the day then is.
import { dayClock, secondsAt, type DayClock, type DayContext, type UserDay } from './user-day.js';
import { PRESENT_DAY_SECONDS } from './presence.js';

export type MarkKind = 'present' | 'late' | 'absent' | 'excused';
export const MARK_KINDS: readonly MarkKind[] = ['present', 'late', 'absent', 'excused'];

/** The school's list of reasons for an excused absence ("motif"). */
export type MarkReason = 'illness' | 'medical' | 'family' | 'authorised_activity' | 'other';
export const MARK_REASONS: readonly MarkReason[] = ['illness', 'medical', 'family', 'authorised_activity', 'other'];

/** staff: the dashboard; api: a REST client (a staff token); teacher: a roll call on a device (channel `appel`). */
export type AuthorKind = 'staff' | 'api' | 'teacher';
export const AUTHOR_KINDS: readonly AuthorKind[] = ['staff', 'api', 'teacher'];

/** Why a user-day's marks need a look from the school. */
export type MarkConflict = 'teachers_disagree' | 'absent_but_checked_in';
export const MARK_CONFLICTS: readonly MarkConflict[] = ['teachers_disagree', 'absent_but_checked_in'];

export interface Mark {
  id: number;
  mark: MarkKind;
  reason: MarkReason | null;
  /** Part of the day ("P1", "morning"); null: the whole day. */
  period: string | null;
  authorKind: AuthorKind;
  /** Who wrote it: a staff id or a device id, as a string. Marks of one author supersede each other. */
  author: string;
  markedAt: Date | number;
}

export interface ResolvedMark {
  mark: MarkKind;
  reason: MarkReason | null;
  /** Teachers disagree for the same period: the latest teacher's mark stands, flagged. */
  disagreement: boolean;
}

/** Staff (dashboard or REST) outrank a teacher's roll call. */
const rank = (k: AuthorKind) => (k === 'teacher' ? 1 : 2);
const ms = (at: Date | number) => (typeof at === 'number' ? at : at.getTime());
const later = (a: Mark, b: Mark) => ms(a.markedAt) - ms(b.markedAt) || a.id - b.id;

/**
 * The mark that stands for a user-day, or null without marks:
 * - only the highest-ranking authors' marks count (staff over teachers);
 * - per period (the whole day being one), the latest mark of each author stands; staff's
 *   latest wins among staff; teachers who disagree are flagged and the latest of them stands;
 * - the day is then: late if any period is late, else present if any is, else absent if any
 *   is, else excused (with the reason of the latest excuse).
 */
export function resolveMarks(marks: readonly Mark[]): ResolvedMark | null {
  if (marks.length === 0) return null;
  const top = Math.max(...marks.map((m) => rank(m.authorKind)));
  const byPeriod = new Map<string, Map<string, Mark>>();
  for (const m of marks) {
    if (rank(m.authorKind) !== top) continue;
    const key = m.period ?? '';
    let authors = byPeriod.get(key);
    if (!authors) byPeriod.set(key, (authors = new Map()));
    const seen = authors.get(m.author);
    if (!seen || later(m, seen) > 0) authors.set(m.author, m);
  }
  let disagreement = false;
  const standing: Mark[] = [];
  for (const authors of byPeriod.values()) {
    const latest = [...authors.values()].sort(later);
    const winner = latest[latest.length - 1];
    if (top === 1 && latest.some((m) => m.mark !== winner.mark)) disagreement = true;
    standing.push(winner);
  }
  standing.sort(later);
  for (const kind of ['late', 'present', 'absent', 'excused'] as const) {
    const found = standing.filter((m) => m.mark === kind);
    if (found.length > 0) return { mark: kind, reason: kind === 'excused' ? found[found.length - 1].reason : null, disagreement };
  }
  return null;
}

export type DayStatus = 'present' | 'absent' | 'excused';

/** A stored user-day as the day rules read it. */
export interface MarkedDay extends Pick<UserDay, 'seconds' | 'openSince'> {
  /** The standing mark (see resolveMarks); null or absent: no marks. */
  mark?: MarkKind | null;
  /** Checked in at least once that day. */
  checkedIn?: boolean;
  /** The first check-in, for lateness. */
  firstCheckinAt?: Date | number | null;
}

export interface DayVerdict {
  status: DayStatus;
  /** Present and late: marked late, or first check-in after the school's late_after (unless marked present). */
  late: boolean;
  /** Marked absent but checked in: present, and the disagreement is flagged. */
  conflict: boolean;
}


function measuredPresent(day: MarkedDay, clock: DayClock): boolean {
  if (day.openSince !== null && clock.kind === 'today') return true;
  return secondsAt(day, clock) > PRESENT_DAY_SECONDS;
}

/**
 * One user-day (DESIGN §4): without marks, the accumulated-time rule; `excused` → excused
 * unless the time makes it present; `present`/`late` → present whatever the time; `absent` →
 * absent unless the user checked in (then present, flagged). `day` null: nothing stored → absent.
 */
export function dayVerdict(day: MarkedDay | null, ctx: DayContext | DayClock): DayVerdict {
  const clock: DayClock = 'kind' in ctx ? ctx : dayClock(ctx);
  if (day === null) return { status: 'absent', late: false, conflict: false };
  const checkedIn = day.checkedIn ?? (day.seconds > 0 || day.openSince !== null);
  const first = day.firstCheckinAt == null ? null : ms(day.firstCheckinAt);
  const lateByClock = clock.lateAfterMs != null && first !== null && first > clock.lateAfterMs;
  switch (day.mark ?? null) {
    case 'present': return { status: 'present', late: false, conflict: false };
    case 'late': return { status: 'present', late: true, conflict: false };
    case 'absent':
      return checkedIn ? { status: 'present', late: lateByClock, conflict: true } : { status: 'absent', late: false, conflict: false };
    case 'excused':
      return measuredPresent(day, clock) ? { status: 'present', late: lateByClock, conflict: false } : { status: 'excused', late: false, conflict: false };
    default: {
      const present = measuredPresent(day, clock);
      return { status: present ? 'present' : 'absent', late: present && lateByClock, conflict: false };
    }
  }
}
