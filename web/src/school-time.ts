// "Today" and its first instant in the school's time zone, whatever the browser's zone.
import { startOfDay } from './format.js';

export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function todayStart(timeZone: string): Date {
  return startOfDay(todayIn(timeZone), timeZone);
}
