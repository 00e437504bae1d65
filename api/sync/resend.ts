// RESEND_SINCE (PROTOCOL.md §6): rows from `since` on, one window of at most 31 days per
// sync. The flag's progress holds where the next window starts; the worker advances it.
import type { DeviceFlag } from '../../db/schema/index.js';

export const RESEND_WINDOW_DAYS = 31;

export interface ResendWindow {
  file: 'attendances.csv';
  from: string;
  to: string;
}

export function resendWindow(flags: readonly Pick<DeviceFlag, 'name' | 'params' | 'progress'>[], now: Date): ResendWindow | null {
  const flag = flags.find((f) => f.name === 'RESEND_SINCE');
  if (!flag) return null;
  const progress = (flag.progress ?? {}) as { next_from?: string };
  const since = String((flag.params as { since?: string }).since ?? '');
  const from = new Date(progress.next_from ?? `${since}T00:00:00Z`);
  if (Number.isNaN(from.getTime())) return null;
  const to = new Date(Math.min(from.getTime() + RESEND_WINDOW_DAYS * 86_400_000, now.getTime()));
  return { file: 'attendances.csv', from: from.toISOString(), to: to.toISOString() };
}
