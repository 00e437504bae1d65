// Dates and times shown in the school's time zone, and the words the dashboard uses for codes.
import type { AttentionReason } from './types.js';

export function dateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function time(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** "3 min ago", "2 h ago": how long since an instant, for sync health. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function skew(seconds: number | null): string {
  if (seconds === null) return '—';
  if (Math.abs(seconds) < 60) return `${seconds} s`;
  const sign = seconds > 0 ? '+' : '−';
  const a = Math.abs(seconds);
  // A clock off by decades (a device reporting 2100) reads in years, not in millions of minutes.
  if (a < 2 * 3600) return `${sign}${Math.round(a / 60)} min`;
  if (a < 2 * 86_400) return `${sign}${Math.round(a / 3600)} h`;
  if (a < 2 * 365 * 86_400) return `${sign}${Math.round(a / 86_400)} d`;
  return `${sign}${Math.round(a / 31_557_600)} years`;
}

/** The first instant of a local day in a time zone (the offset found by formatting, as no Intl API gives it directly). */
export function startOfDay(day: string, timeZone: string): Date {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  let guess = utcMidnight;
  for (let i = 0; i < 2; i++) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(guess)).map((p) => [p.type, p.value]));
    const asUtc = Date.parse(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`);
    guess = utcMidnight - (asUtc - guess);
  }
  return new Date(guess);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export const CHANNEL_STATUS = ['idle', 'importing', 'package ready'] as const;

export const REASONS: Record<AttentionReason, string> = {
  stuck_processing: 'Import stuck (status 1)',
  ack_overdue: 'Package not acknowledged (status 2)',
  silent: 'Silent longer than its sync interval',
  clock_off: 'Clock off',
};

export function bucketLabel(start: string, period: 'day' | 'week' | 'month'): string {
  if (period === 'month') return start.slice(0, 7);
  if (period === 'week') return `wk ${start}`;
  return start;
}
