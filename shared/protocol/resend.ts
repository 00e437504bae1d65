// RESEND_SINCE (docs/protocol/v4.md §6): rows from `since` on, one window of at most 31 days per
// sync, until now is reached. `since` is a day in the school's time zone: the resend starts at
// its first local instant. Progress lives on the flag (`progress` jsonb):
//   next_from      where the next window starts (absent: at `since`)
//   offered        the window the last manifest showed {from, to, at}; a batch counts as
//                  covering a window only if it was uploaded after that very window was offered
//   windows_done   windows covered so far; rows_received: rows of those batches inside them
// The manifest offers [from, min(from + 31 d, now)); the worker, importing a batch uploaded after
// the offer, moves next_from to the window's end, and delivers the flag (applied on ack) with
// the batch that covered the last window — the one cut short by "now".
import { RESEND_WINDOW_MS } from './flags.js';
import { startOfLocalDay } from '../time/zoned.js';

export { RESEND_WINDOW_DAYS } from './flags.js';

export interface ResendWindow {
  file: 'attendances.csv';
  from: string;
  to: string;
}

export interface ResendProgress {
  next_from?: string;
  windows_done?: number;
  rows_received?: number;
  /** Used up (null) by the batch that covers it. */
  offered?: { from: string; to: string; at: string } | null;
  last_session_id?: string;
}

/** The columns of a device_flags row this file reads. */
export interface ResendFlag {
  name: string;
  params: Record<string, unknown>;
  progress: Record<string, unknown> | null;
}

export function resendProgress(flag: Pick<ResendFlag, 'progress'>): ResendProgress {
  return (flag.progress ?? {}) as ResendProgress;
}

/** Where the next window starts: after the last covered window, or at the start of `since` in the school's zone. */
export function resendFrom(flag: ResendFlag, timeZone: string): Date | null {
  const progress = resendProgress(flag);
  if (progress.next_from) return new Date(progress.next_from);
  const since = (flag.params as { since?: unknown }).since;
  if (typeof since !== 'string') return null;
  try {
    return startOfLocalDay(since, timeZone);
  } catch {
    return null;
  }
}

/** [from, min(from + 31 d, now)); never reversed (a window starting after now is empty). */
export function windowAt(from: Date, now: Date): { from: Date; to: Date } {
  const to = Math.max(from.getTime(), Math.min(from.getTime() + RESEND_WINDOW_MS, now.getTime()));
  return { from, to: new Date(to) };
}

/** The last window is the one "now" cut short. */
export function isLastWindow(window: { from: Date | string; to: Date | string }): boolean {
  return new Date(window.to).getTime() - new Date(window.from).getTime() < RESEND_WINDOW_MS;
}

export function resendWindow(flags: readonly ResendFlag[], now: Date, timeZone: string): ResendWindow | null {
  const flag = flags.find((f) => f.name === 'RESEND_SINCE');
  if (!flag) return null;
  const from = resendFrom(flag, timeZone);
  if (!from) return null;
  const w = windowAt(from, now);
  return { file: 'attendances.csv', from: w.from.toISOString(), to: w.to.toISOString() };
}

/**
 * What staff see of a resend: windows done / total and rows received. While the flag is still
 * pending, the total counts the windows left as of `now` (at least one: the last, cut short by now).
 */
export function resendSummary(flag: ResendFlag, timeZone: string, now: Date, pending: boolean) {
  const progress = resendProgress(flag);
  const done = progress.windows_done ?? 0;
  const from = resendFrom(flag, timeZone);
  const remaining = !pending || !from ? 0 : Math.max(1, Math.ceil((now.getTime() - from.getTime()) / RESEND_WINDOW_MS));
  return {
    since: (flag.params as { since?: string }).since ?? null,
    next_from: from?.toISOString() ?? null,
    windows_done: done,
    windows_total: done + remaining,
    rows_received: progress.rows_received ?? 0,
  };
}
