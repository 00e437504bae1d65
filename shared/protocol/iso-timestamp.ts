// Strict ISO 8601 timestamps as the protocol requires them ("with an offset or Z"): shared by the
// CSV row validators and device.xml. Date.parse is not used on device input: it accepts
// local times without offset, silently rolls 2026-02-30 over to March and varies by engine.

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM). Seconds are required; the fraction is cut to milliseconds.
// Read character by character rather than with a regular expression and its captures: every
// row of a log goes through here (a third of the row validation's time in bench ingest).

/** Offsets in real use span −12:00..+14:00; anything past ±18:00 is not a time zone. */
const MAX_OFFSET_MINUTES = 18 * 60;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/** The value of `count` ASCII digits from `at` (within the text: callers check its length), or -1 if any is not one. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** The instant `text` denotes, or null when it is not a real ISO 8601 time with an offset or Z. */
export function parseIsoTimestamp(text: string): Date | null {
  if (text.length < 20 || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return null;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // No leap second (:60): devices do not produce it and JS dates cannot hold it.
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;

  let i = 19;
  let millis = 0;
  if (text[i] === '.') {
    const from = ++i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    const count = i - from;
    if (count < 1 || count > 9) return null;
    for (let k = 0; k < 3; k++) millis = millis * 10 + (k < count ? text.charCodeAt(from + k) - 48 : 0);
  }
  let offsetMinutes = 0;
  const sign = text[i];
  if (sign === 'Z') {
    if (i + 1 !== text.length) return null;
  } else if ((sign === '+' || sign === '-') && i + 6 === text.length && text[i + 3] === ':') {
    const offH = digitsAt(text, i + 1, 2);
    const offM = digitsAt(text, i + 4, 2);
    if (offH < 0 || offM < 0 || offM > 59) return null;
    offsetMinutes = (offH * 60 + offM) * (sign === '-' ? -1 : 1);
    if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) return null;
  } else {
    return null;
  }
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC reads years 0–99 as 1900–1999; put such (absurd but well-formed) years back.
  if (year < 100) date.setUTCFullYear(year);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

/** `2026-11-20T08:00:03Z`, with milliseconds only when there are some: the wire format we emit. */
export function formatIsoTimestamp(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
