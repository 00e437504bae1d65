// One way to write dates, times and numbers: the chosen language's locale through Intl
// (intl.ts). The school's data is written in the school's time zone (views say so with
// schoolTimeNote); calendar days (YYYY-MM-DD, no zone of their own) are written as such.
import { m } from './i18n.js';
import { locale, num } from './intl.js';
import type { AttentionReason, Period } from './types.js';

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Intl.DateTimeFormat is slow to build and a 2,000-row table asks for thousands of dates. */
function dtf(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale()}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(locale(), opts)));
  return f;
}

/** An instant, to the minute, in `timeZone`. */
export function dateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return dtf({ timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** An instant, to the second (data mart runs). */
export function dateTimeSeconds(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return dtf({ timeZone, dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function time(iso: string, timeZone: string): string {
  return dtf({ timeZone, timeStyle: 'short' }).format(new Date(iso));
}

/** A wall-clock time of no particular day ('16:30', a school's day end) in the locale's way: "16:30", "4:30 PM". */
export function wallTime(hhmm: string): string {
  return dtf({ timeZone: 'UTC', timeStyle: 'short' }).format(new Date(`1970-01-01T${hhmm}:00Z`));
}

/** A calendar day (YYYY-MM-DD): "3 Dec 2026", "3 déc. 2026". */
export function day(isoDay: string): string {
  return dtf({ timeZone: 'UTC', dateStyle: 'medium' }).format(new Date(`${isoDay}T00:00:00Z`));
}

/** A calendar day in a table or on an axis: "Thu 3 Dec", "jeu. 3 déc.". */
export function dayShort(isoDay: string): string {
  return dtf({ timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(`${isoDay}T00:00:00Z`));
}

/** Two calendar days as one range: "1–7 Dec 2026". */
export function dayRange(from: string, to: string): string {
  return dtf({ timeZone: 'UTC', dateStyle: 'medium' }).formatRange(new Date(`${from}T00:00:00Z`), new Date(`${to}T00:00:00Z`));
}

export function bucketLabel(start: string, period: Period): string {
  if (period === 'month') return dtf({ timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(`${start}T00:00:00Z`));
  if (period === 'week') return m.weekOf(dtf({ timeZone: 'UTC', day: 'numeric', month: 'short' }).format(new Date(`${start}T00:00:00Z`)));
  return dayShort(start);
}

export function temperature(celsius: number): string {
  return num(celsius, { style: 'unit', unit: 'celsius', minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** "3 min ago", "il y a 2 h": how long since an instant, for sync health. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return m.never;
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'always', style: 'short' });
  if (s < 60) return rtf.format(-s, 'second');
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 86_400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86_400), 'day');
}

/** A length of time in its two largest units: "13 days 7 hr", "5 min", "12 sec"; years past two (a device reporting 2100). */
export function duration(seconds: number): string {
  const unit = (n: number, u: 'year' | 'day' | 'hour' | 'minute' | 'second') => num(n, { style: 'unit', unit: u, unitDisplay: 'short' });
  const a = Math.round(Math.abs(seconds));
  if (a >= 2 * 365 * 86_400) return unit(Math.round(a / 31_557_600), 'year');
  if (a < 60) return unit(a, 'second');
  if (a < 3600) return unit(Math.floor(a / 60), 'minute');
  if (a < 86_400) {
    const minutes = Math.floor((a % 3600) / 60);
    return [unit(Math.floor(a / 3600), 'hour'), minutes ? unit(minutes, 'minute') : ''].filter(Boolean).join(' ');
  }
  const hours = Math.floor((a % 86_400) / 3600);
  return [unit(Math.floor(a / 86_400), 'day'), hours ? unit(hours, 'hour') : ''].filter(Boolean).join(' ');
}

/** The device clock against the server's: one sign (+ ahead, U+2212 − behind), days and hours when it is far off. */
export function skew(seconds: number | null): string {
  if (seconds === null) return '—';
  const sign = seconds > 0 ? '+' : seconds < 0 ? '\u2212' : '';
  return `${sign}${duration(seconds)}`;
}

export function skewTitle(seconds: number | null): string | null {
  if (seconds === null || seconds === 0) return null;
  return seconds > 0 ? m.clockAhead(duration(seconds)) : m.clockBehind(duration(seconds));
}

/** The first instant of a local day in a time zone (the offset found by formatting, as no Intl API gives it directly). */
export function startOfDay(isoDay: string, timeZone: string): Date {
  const utcMidnight = Date.parse(`${isoDay}T00:00:00Z`);
  let guess = utcMidnight;
  for (let i = 0; i < 2; i++) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(guess)).map((p) => [p.type, p.value]));
    const asUtc = Date.parse(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`);
    guess = utcMidnight - (asUtc - guess);
  }
  return new Date(guess);
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a time zone. */
export function dayOf(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

export function addDays(isoDay: string, n: number): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function channelStatus(status: number): string {
  return [m.channelIdle, m.channelImporting, m.channelReady][status] ?? String(status);
}

export function reason(r: AttentionReason): string {
  return m.reasons[r];
}

/** A month (YYYY-MM): "December 2026", "décembre 2026". */
export function monthLabel(month: string): string {
  return dtf({ timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(`${month}-01T00:00:00Z`));
}

/** Monday to Sunday, short: "Mon"…, "lun."…. */
export function weekdaysShort(): string[] {
  return Array.from({ length: 7 }, (_, i) => dtf({ timeZone: 'UTC', weekday: 'short' }).format(new Date(Date.UTC(2026, 10, 30 + i))));
}
