// A pupil's days, worked out in the browser from their check-ins and check-outs: first
// check-in, last check-out, time in (each check-in to the next check-out) and what looks
// wrong. The present/absent verdict is the server's (figures); when the API answers a pupil's
// days with their verdicts, this table takes them from there instead.
import { dayOf } from './format.js';
import type { Attendance } from './types.js';

export interface PupilDay {
  day: string;
  firstIn: string | null;
  lastOut: string | null;
  secondsIn: number;
  openCheckin: boolean;
  strayCheckout: boolean;
  clockSuspect: boolean;
  fever: boolean;
}

/** `rows` oldest first; answers the days newest first. A check-in of `today` with no check-out yet is someone still in, not an anomaly. */
export function pupilDays(rows: Attendance[], timeZone: string, feverThreshold: number, today: string): PupilDay[] {
  const days = new Map<string, PupilDay>();
  const openSince = new Map<string, number>();
  for (const a of rows) {
    const key = dayOf(a.occurred_at, timeZone);
    let d = days.get(key);
    if (!d) days.set(key, (d = { day: key, firstIn: null, lastOut: null, secondsIn: 0, openCheckin: false, strayCheckout: false, clockSuspect: false, fever: false }));
    const at = Date.parse(a.occurred_at);
    if (a.type === 'checkin') {
      d.firstIn ??= a.occurred_at;
      if (!openSince.has(key)) openSince.set(key, at);
    } else {
      d.lastOut = a.occurred_at;
      const since = openSince.get(key);
      if (since === undefined) d.strayCheckout = true;
      else d.secondsIn += (at - since) / 1000;
      openSince.delete(key);
    }
    if (a.clock_suspect) d.clockSuspect = true;
    if (a.temperature !== null && a.temperature >= feverThreshold) d.fever = true;
  }
  for (const key of openSince.keys()) if (key !== today) days.get(key)!.openCheckin = true;
  return [...days.values()].sort((a, b) => b.day.localeCompare(a.day));
}
