// The app's languages (locales/): the one remembered from the picker, else the browser's first
// language we have, else English. Dates and times follow the browser's own tag when it is of the
// same language (en-GB keeps 24-hour times), through Intl.
import { en, type Messages } from './locales/en.js';
import { fr } from './locales/fr.js';

export const LANGUAGES: Messages[] = [en, fr];
const STORED = 'attendance-app.lang';

export let m: Messages = en;
let tag = 'en';

export function initLanguage(): void {
  const byCode = (code: string | null | undefined) => LANGUAGES.find((l) => l.code === code?.toLowerCase().split('-')[0]);
  let stored: string | null = null;
  try { stored = localStorage.getItem(STORED); } catch { /* storage refused: the browser's language then */ }
  const browser = [...(navigator.languages ?? []), navigator.language].filter(Boolean);
  m = byCode(stored) ?? browser.map(byCode).find(Boolean) ?? en;
  tag = browser.find((t) => byCode(t) === m) ?? m.code;
  document.documentElement.lang = m.code;
  document.title = m.appName;
}

export function rememberLanguage(code: string): void {
  try { localStorage.setItem(STORED, code); } catch { /* not remembered: this visit only */ }
  initLanguage();
}

export function time(at: Date): string {
  return new Intl.DateTimeFormat(tag, { hour: '2-digit', minute: '2-digit' }).format(at);
}

/** "10:42" today, else the day and the time. */
export function when(at: Date): string {
  const sameDay = at.toDateString() === new Date().toDateString();
  return sameDay ? time(at) : new Intl.DateTimeFormat(tag, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(at);
}

export function longDate(isoDate: string): string {
  const [y, mo, d] = isoDate.split('-').map(Number);
  return new Intl.DateTimeFormat(tag, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, mo - 1, d)));
}

/** Today on this device's clock and in its time zone, as YYYY-MM-DD. */
export function localToday(now = new Date()): string {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}
