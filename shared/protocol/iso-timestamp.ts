// Strict ISO 8601 timestamps as the protocol requires them ("with an offset or Z"): shared by the
// CSV row validators and device.xml. Date.parse is not used on device input: it accepts
// local times without offset, silently rolls 2026-02-30 over to March and varies by engine.

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM). Seconds are required; the fraction is cut to milliseconds.
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/** Offsets in real use span −12:00..+14:00; anything past ±18:00 is not a time zone. */
const MAX_OFFSET_MINUTES = 18 * 60;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/** The instant `text` denotes, or null when it is not a real ISO 8601 time with an offset or Z. */
export function parseIsoTimestamp(text: string): Date | null {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // No leap second (:60): devices do not produce it and JS dates cannot hold it.
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offsetMinutes = 0;
  if (!m[8]) {
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    if (offM > 59) return null;
    offsetMinutes = (offH * 60 + offM) * (m[9] === '-' ? -1 : 1);
    if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) return null;
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
