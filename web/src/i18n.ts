// The message catalogue: every sentence the dashboard shows comes from the chosen language's
// file in locales/ (one file per language, found by the build: adding a language is adding a
// file). The language is the one remembered from the switch, else the browser's first
// language we have, else English; numbers and dates follow the browser's own tag when it is
// of the same language (en-GB keeps day/month order), through Intl.
import all from 'virtual:locales';
import type en from './locales/en.js';
import { setFormatLocale } from './intl.js';

export type Messages = typeof en.messages;
export interface Locale { code: string; name: string; messages: Messages }

const STORED = 'attendance.lang';
export const LANGUAGES: Locale[] = [...all].sort((a, b) => a.code.localeCompare(b.code));
/** English: the language every other is checked against (en.ts's messages are the type), and the last resort. */
const ENGLISH = LANGUAGES.find((l) => l.code === 'en')!;

function browserTags(): string[] {
  return [...(navigator.languages ?? []), navigator.language].filter(Boolean);
}

function pick(): Locale {
  const byCode = (code: string | null | undefined) => LANGUAGES.find((l) => l.code === code?.toLowerCase().split('-')[0]);
  let stored: string | null = null;
  try { stored = localStorage.getItem(STORED); } catch { /* storage refused: the browser's language then */ }
  return byCode(stored) ?? browserTags().map(byCode).find(Boolean) ?? ENGLISH;
}

let chosen: Locale = ENGLISH;
/** The current language's messages (a live binding: read it where a sentence is written). */
export let m: Messages = ENGLISH.messages;

export function language(): string {
  return chosen.code;
}

/** Chooses the language at start: messages, formatting locale and <html lang>. */
export function initLanguage(): void {
  chosen = pick();
  m = chosen.messages;
  const sameLanguage = browserTags().find((t) => t.toLowerCase().split('-')[0] === chosen.code);
  setFormatLocale(sameLanguage ?? chosen.code);
  document.documentElement.lang = chosen.code;
  document.title = m.appTitle;
}

/** Remembers the choice (localStorage: it outlives the tab, unlike the session). */
export function rememberLanguage(code: string): void {
  try { localStorage.setItem(STORED, code); } catch { /* not remembered, still applied below */ }
}
