// Four weeks of plausible check-ins for the demo school, so the dashboard of a fresh `npm start`
// has figures, someone in right now, fever alerts and devices with a story (one healthy
// terminal, one phone silent with its clock off). Deterministic: a seeded generator, times
// relative to now. Record ids start high so a simulator syncing as a demo device never collides.
// Arrivals after 08:30 (the demo school's late_after) are late; some days at home are excused
// by the office with a reason. Enrolment is earlier than the first check-in: those days read
// "no data" (records_from defaults to the first recorded day), never absent.
import { isSchoolDay } from '../../shared/attendance/presence.js';
import { addDays } from '../../shared/time/calendar.js';
import { localTimeOnDate, todayIn } from '../../shared/time/zoned.js';
import type { Trx } from '../database.js';
import { adoptDefaultRows } from '../repositories/partitions.js';
import { refreshDays, refreshUserDays } from '../repositories/user-days.js';
import type { DayKey } from '../../shared/attendance/touched-days.js';
import type { MarkReason } from '../../shared/attendance/marks.js';

const REASONS: MarkReason[] = ['illness', 'illness', 'medical', 'family', 'authorised_activity'];

const DAYS = 28;
const FIRST_RECORD_ID = 900_000_000;
const FEVER = 37.5;

/** mulberry32: small, seeded, good enough for demo data. */
function generator(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

export async function addDemoHistory(trx: Trx, school: { id: number; timezone: string }, terminalId: string, phoneId: string, now = new Date()): Promise<void> {
  const users = await trx.selectFrom('users').select('id').where('school_id', '=', school.id).orderBy('id').execute();
  const random = generator(20261124);
  const today = todayIn(school.timezone, now);
  const rows: Array<{ school_id: number; user_id: number; device_id: string; record_id: number; type: 'checkin' | 'checkout'; occurred_at: Date; temperature: number | null }> = [];
  let record = FIRST_RECORD_ID;
  const excuses: Array<{ school_id: number; user_id: number; date: string; mark: string; reason: MarkReason; author_kind: string; marked_at: Date }> = [];
  for (let back = DAYS; back >= 0; back--) {
    const date = addDays(today, -back);
    if (!isSchoolDay(date)) continue;
    for (const user of users) {
      if (random() < 0.1) {
        // Stayed home; the office excuses about half of those days, with a reason.
        const r = random();
        if (r < 0.5 && back > 0) excuses.push({ school_id: school.id, user_id: user.id, date, mark: 'excused', reason: REASONS[Math.floor(r * 10) % REASONS.length], author_kind: 'staff', marked_at: localTimeOnDate(date, '09:30', school.timezone) });
        continue;
      }
      const device = random() < 0.85 ? terminalId : phoneId;
      const arrive = localTimeOnDate(date, hhmm(465 + Math.floor(random() * 50)), school.timezone);
      const leave = localTimeOnDate(date, hhmm(random() < 0.06 ? 660 : 930 + Math.floor(random() * 90)), school.timezone);
      const feverish = random() < 0.006 || (back === 0 && user === users[3]);
      const temperature = Math.round((feverish ? 37.8 + random() * 1.2 : 36.2 + random() * 0.9) * 10) / 10;
      if (arrive < now) rows.push({ school_id: school.id, user_id: user.id, device_id: device, record_id: ++record, type: 'checkin', occurred_at: arrive, temperature });
      if (leave < now) rows.push({ school_id: school.id, user_id: user.id, device_id: device, record_id: ++record, type: 'checkout', occurred_at: leave, temperature: null });
    }
  }
  if (rows.length === 0) return;
  const stored = await trx.insertInto('attendances').values(rows)
    .returning(['id', 'school_id', 'user_id', 'device_id', 'record_id', 'temperature', 'occurred_at']).execute();
  // Their device keys, as an import writes them (docs/scaling-partitions.md), and the past month's partition.
  await trx.insertInto('attendance_keys').values(stored.map((a) => ({
    school_id: a.school_id, device_id: a.device_id!, record_id: a.record_id!, attendance_id: a.id, occurred_at: a.occurred_at,
  }))).execute();
  await adoptDefaultRows(trx, 'attendances');
  const fevers = stored.filter((a) => a.temperature !== null && a.temperature >= FEVER);
  if (fevers.length > 0) {
    await trx.insertInto('fever_events').values(fevers.map((a) => ({
      school_id: a.school_id, user_id: a.user_id, device_id: a.device_id, attendance_id: a.id, source: 'attendance',
      record_id: a.record_id, temperature: a.temperature!, occurred_at: a.occurred_at,
    }))).execute();
  }
  await refreshUserDays(trx, stored.map((a) => ({ schoolId: a.school_id, userId: a.user_id, occurredAt: a.occurred_at })), now);
  if (excuses.length > 0) {
    await trx.insertInto('marks').values(excuses).execute();
    await refreshDays(trx, excuses.map((e): DayKey => ({ schoolId: e.school_id, userId: e.user_id, date: e.date })), now);
  }

  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  await trx.updateTable('devices').set({
    last_seen_at: ago(40), last_synced_at: ago(40), last_device_clock: ago(41), clock_skew_seconds: 2, firmware: '3.2.0', pending_records: 0, roster_version: 1,
  }).where('school_id', '=', school.id).where('id', '=', terminalId).execute();
  await trx.updateTable('devices').set({
    last_seen_at: ago(2 * 3600), last_synced_at: ago(2 * 3600), last_device_clock: ago(2 * 3600 + 420), clock_skew_seconds: -420, firmware: '1.9.4', pending_records: 37, roster_version: 1,
  }).where('school_id', '=', school.id).where('id', '=', phoneId).execute();
  // What the devices that sent these rows hold as their high-water marks, as an import leaves
  // them: the manifest shows them, and an app enrolled as the demo's phone numbers its rows above.
  const highest = new Map<string, number>();
  for (const r of rows) highest.set(r.device_id, Math.max(highest.get(r.device_id) ?? 0, r.record_id));
  await trx.insertInto('high_water_marks')
    .values([...highest].map(([device_id, record_id]) => ({ school_id: school.id, device_id, file: 'attendances.csv', record_id }))).execute();
  await trx.insertInto('sync_states').values([
    { school_id: school.id, device_id: terminalId, channel: 'synchro', status: 0, changed_at: ago(40) },
    { school_id: school.id, device_id: phoneId, channel: 'synchro', status: 0, changed_at: ago(2 * 3600) },
  ]).execute();
}
