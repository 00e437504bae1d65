// A fleet of simulated devices living school days against a running service, then the checks
// a user cares about: every generated row stored once or rejected for the expected reason,
// the API's per-day figures equal to those computed from the events, one fever alert per hot
// check-in, no device left stuck.
import { isoWeekday } from '../shared/time/calendar.js';
import { localTimeOnDate, startOfLocalDay, todayIn } from '../shared/time/zoned.js';
import { addDays } from '../shared/time/calendar.js';
import type { FaultInjector } from './device-client.js';
import { SdkDevice } from './sdk-device.js';
import { expectedDayFigures, type StoredEvent } from './expected.js';
import { SchoolCalendar, type CalendarEntry } from '../shared/attendance/school-calendar.js';
import { generate, type GeneratedEvent, type GenerationRates } from './generate.js';
import { http } from './http.js';
import { failoverBetween } from './failover.js';
import { seededRandom, subSeed } from './random.js';
import { ensureDevices, ensureSchool, ensureUsers, listAll, pastSchoolDays, signInAdmin, type Admin } from './setup.js';
import { confirmTokenlessTerminal, ensurePushTerminals, newPushLive, push3FirstContact, pushContact, storedInstant, type PushLive } from './push-fleet.js';

export interface SimulationOptions {
  /** One or more api base URLs; devices are spread over them. */
  urls: string[];
  email: string;
  password: string;
  devices: number;
  days: number;
  seed: number;
  usersPerDevice?: number;
  timezone?: string;
  /** Local 'HH:MM' sync times of a day. */
  ticks?: string[];
  /** Share of requests whose answer is lost after the server handled it, and share that time out. */
  network?: { drop: number; timeout: number };
  rates?: Partial<GenerationRates>;
  /** Devices syncing at once. */
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  now?: Date;
  /**
   * v4 devices (default), PUSH 2.x terminals, a mixed fleet (every other device a PUSH 2.x
   * terminal), or Security PUSH 3.x terminals (registry, rtlog events with temperatures).
   */
  protocol?: SimulationProtocol;
}

export type SimulationProtocol = 'v4' | 'push' | 'mixed' | 'push3';
export const SIMULATION_PROTOCOLS: readonly SimulationProtocol[] = ['v4', 'push', 'mixed', 'push3'];

export interface Progress {
  day: number;
  days: number;
  tick: number;
  ticks: number;
  syncs: number;
  retries: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SimulationReport {
  ok: boolean;
  checks: Check[];
  school: { id: number; name: string; reused: boolean };
  days: string[];
  calendar: { closure: string | null; event: string | null };
  figures: { devices: number; users: number; generated_rows: number; rows_expected_stored: number; rows_expected_rejected: number;
    syncs: number; retries: number; uploads_retried: number; processing_failed: number; anomalies: Record<string, number>;
    /** Stored check-ins at or above the school's fever threshold from devices that measure it (v4, PUSH 3.x): one fever alert each. */
    fever_alerts_expected: number;
    /** Rows already in these days before this run (an earlier run of the same seed). */
    rows_from_earlier_runs: number };
  counts: ReturnType<typeof generate>['counts'];
}

const DEFAULT_TICKS = ['07:00', '08:00', '09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00', '17:00', '18:00'];

interface LiveDevice {
  index: number;
  id: string;
  /** The device SDK's client (sdk/), in memory: it numbers the rows (above the server's high-water mark) and keeps the refusals. */
  client: SdkDevice;
  events: GeneratedEvent[];
  /** Events recorded so far (queued in the SDK), in recording order. */
  recorded: number;
  syncs: number;
  uploadsRetried: number;
  processingFailed: number;
  failure: string | null;
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function networkFaults(seed: number, device: number, rates: { drop: number; timeout: number }): FaultInjector {
  const rnd = seededRandom(subSeed(seed, 'network', device));
  return () => {
    const r = rnd.next();
    if (r < rates.drop) return { dropResponse: true };
    if (r < rates.drop + rates.timeout) return { timeoutMs: rnd.int(1, 40) };
    return null;
  };
}

/** One sync of a device: it records what happened by `until` (the SDK queues it), then syncs until nothing waits. */
async function syncDevice(dev: LiveDevice, until: Date): Promise<void> {
  // Events are recorded in the order they happen on the device (seq order).
  while (dev.recorded < dev.events.length && dev.events[dev.recorded].at.getTime() <= until.getTime()) {
    const e = dev.events[dev.recorded];
    await dev.client.checkIn(e, { userId: e.userId, type: e.type, at: e.at, temperature: e.temperature });
    dev.recorded++;
  }
  const outcome = await dev.client.syncAll();
  dev.syncs += outcome.reports.length;
  if (outcome.uploadRetried) dev.uploadsRetried++;
  dev.processingFailed += outcome.processingFailed;
}

interface ApiAttendance { id: number; user_id: number; device_id: string | null; record_id: number | null; type: 'checkin' | 'checkout'; occurred_at: string; temperature: number | null }
interface ApiAlert { id: number; device_id: string | null; attendance_id: number | null; user_id: number | null; temperature: number }

export async function runSimulation(opts: SimulationOptions): Promise<SimulationReport> {
  const now = opts.now ?? new Date();
  const timezone = opts.timezone ?? 'Europe/Paris';
  const ticks = opts.ticks ?? DEFAULT_TICKS;
  const network = opts.network ?? { drop: 0.03, timeout: 0.02 };
  failoverBetween(opts.urls); // an api host that goes away: its devices carry on through another
  const admin: Admin = await signInAdmin(opts.urls[0], opts.email, opts.password);

  const { school, reused } = await ensureSchool(admin, `Simulated school (seed ${opts.seed})`, timezone);
  const tz = school.timezone;
  const today = todayIn(tz, now);
  const schoolDays = pastSchoolDays(today, opts.days, school.school_days, isoWeekday);
  // The calendar learns a closure (the middle school day, when there are two or more) and the
  // generated days include the last Saturday, an event morning at a closed school.
  const closure = schoolDays.length >= 2 ? schoolDays[Math.floor(schoolDays.length / 2)] : null;
  let saturday = addDays(today, -1);
  while (isoWeekday(saturday) !== 6) saturday = addDays(saturday, -1);
  const days = [...new Set([...schoolDays, ...(school.school_days.includes(6) ? [] : [saturday])])].sort();
  const { users } = await ensureUsers(admin, school.id, `SIM${opts.seed}`, opts.devices * (opts.usersPerDevice ?? 25), addDays(days[0], -7));
  if (closure) await importClosure(admin, school.id, opts.seed, closure);
  const protocol = opts.protocol ?? 'v4';
  const isPush = (index: number) => protocol === 'push' || protocol === 'push3' || (protocol === 'mixed' && index % 2 === 1);
  const family = protocol === 'push3' ? '3.x' : '2.x';
  const indices = Array.from({ length: opts.devices }, (_, i) => i);
  const v4Indices = indices.filter((i) => !isPush(i));
  const pushIndices = indices.filter(isPush);
  const { devices } = await ensureDevices(admin, school.id, `sim-${opts.seed}-device`, v4Indices.length);
  // A new 3.x terminal calls before staff approve it (pending, registration refused); one of an
  // earlier run has its address confirmed so that it may register again without its old token.
  const terminals = await ensurePushTerminals(admin, school.id, `SIM${opts.seed}T`, pushIndices.length,
    family === '3.x' ? (sn) => push3FirstContact(opts.urls[0], sn) : undefined);
  if (family === '3.x') for (const t of terminals) if (!t.pendingFirst) await confirmTokenlessTerminal(admin, t.id);

  // Rows already stored for these days (an earlier run) are part of what the figures must say.
  const windowFrom = startOfLocalDay(days[0], tz).toISOString();
  const windowTo = startOfLocalDay(addDays(days[days.length - 1], 1), tz).toISOString();
  const listWindow = () => listAll<ApiAttendance>(admin, `/api/attendances?school_id=${school.id}&from=${encodeURIComponent(windowFrom)}&to=${encodeURIComponent(windowTo)}`);
  const before = await listWindow();
  const beforeIds = new Set(before.map((a) => a.id));
  const listAlerts = () => listAll<ApiAlert>(admin, `/api/alerts?school_id=${school.id}&from=${encodeURIComponent(windowFrom)}&to=${encodeURIComponent(windowTo)}`);
  const alertsBefore = new Set((await listAlerts()).map((a) => a.id));

  const generated = generate({
    seed: opts.seed, days, timezone: tz, userIds: users.map((u) => u.id), devices: opts.devices, strangerId: 2_000_000_000, ticks, rates: opts.rates,
    closedDays: closure ? [closure] : [], eventDays: days.includes(saturday) ? [saturday] : [],
  });
  const live: LiveDevice[] = await Promise.all(devices.map((d, k) => v4Indices[k]).map(async (index, k) => ({
    index, id: devices[k].id,
    client: await SdkDevice.open(opts.urls[index % opts.urls.length], { id: devices[k].id, secret: devices[k].secret }, {
      faults: networkFaults(opts.seed, index, network), waitScale: 0.05,
    }),
    events: generated.events.filter((e) => e.device === index).sort((a, b) => a.seq - b.seq), recorded: 0, syncs: 0, uploadsRetried: 0, processingFailed: 0,
    failure: null,
  })));

  const badges = new Map(users.map((u) => [u.id, u.badge]));
  const badgeOf = (userId: number) => badges.get(userId) ?? `NOBODY${userId}`;
  const clockRnd = seededRandom(subSeed(opts.seed, 'push-clock', 0));
  const pushLive: PushLive[] = pushIndices.map((index, k) => newPushLive(index, terminals[k], opts.urls[index % opts.urls.length],
    // A third of the terminals run with their clock up to 90 s off.
    generated.events.filter((e) => e.device === index), k % 3 === 2 ? clockRnd.int(-90, 90) : 0, networkFaults(opts.seed, index, network), family));
  const contactAll = async (which: PushLive[], until: Date) => {
    await inParallel(which, opts.concurrency ?? 32, async (dev) => {
      if (dev.failure) return;
      try {
        await pushContact(dev, until, tz, badgeOf);
      } catch (err) {
        dev.failure = (err as Error).message;
      }
    });
  };
  const progress = () => {
    opts.onProgress?.({ day: currentDay + 1, days: days.length, tick: currentTick + 1, ticks: ticks.length,
      syncs: live.reduce((n, d) => n + d.syncs, 0), retries: live.reduce((n, d) => n + d.client.retries, 0) });
  };
  let currentDay = 0;
  let currentTick = 0;
  const syncAll = async (which: LiveDevice[], until: Date) => {
    await inParallel(which, opts.concurrency ?? 32, async (dev) => {
      if (dev.failure) return;
      try {
        await syncDevice(dev, until);
      } catch (err) {
        dev.failure = (err as Error).message;
      }
      progress();
    });
  };
  for (currentDay = 0; currentDay < days.length; currentDay++) {
    for (currentTick = 0; currentTick < ticks.length; currentTick++) {
      const until = localTimeOnDate(days[currentDay], ticks[currentTick], tz);
      await Promise.all([
        syncAll(live.filter((d) => generated.devices[d.index].online[currentDay][currentTick]), until),
        contactAll(pushLive.filter((d) => generated.devices[d.index].online[currentDay][currentTick]), until),
      ]);
    }
  }
  // Back online for good: every device sends its backlog.
  currentDay = days.length - 1;
  currentTick = ticks.length - 1; // the loops left it one past the end: progress would read over 100%
  await Promise.all([syncAll(live, new Date(windowTo)), contactAll(pushLive, new Date(windowTo))]);
  // PUSH imports run after the OK: wait until none of this fleet's is pending.
  await waitForPushImports(admin, pushLive);

  // ---- checks ----
  const checks: Check[] = [];
  const after = await listWindow();
  const ours = new Map(live.map((d) => [d.id, d]));
  const oursPush = new Map(pushLive.map((d) => [d.id, d]));
  const stored = new Map<string, ApiAttendance[]>();
  for (const a of after) {
    if (!a.device_id || !(ours.has(a.device_id) || oursPush.has(a.device_id)) || beforeIds.has(a.id)) continue;
    // v4 rows by record id; PUSH rows by their natural key (terminal, user, time).
    const key = oursPush.has(a.device_id) ? `${a.device_id}/u${a.user_id}/${new Date(a.occurred_at).getTime()}` : `${a.device_id}/${a.record_id}`;
    stored.set(key, [...(stored.get(key) ?? []), a]);
  }
  const problems: string[] = [];
  /** The stored row of each generated event expected stored (when it is there once). */
  const rowOf = new Map<GeneratedEvent, ApiAttendance>();
  let expectStored = 0;
  let expectRejected = 0;
  const seen = new Set<string>();
  for (const dev of live) {
    for (const e of dev.events) {
      // The record id the SDK gave the row when it first went into a batch.
      const recordId = dev.client.recordIdOf(e);
      if (recordId === undefined) { problems.push(`device ${dev.index}: event ${e.seq} never sent`); continue; }
      const key = `${dev.id}/${recordId}`;
      seen.add(key);
      const rows = stored.get(key) ?? [];
      const codes = dev.client.refusals.get(recordId);
      if (e.expect === 'stored') {
        expectStored++;
        if (rows.length !== 1) problems.push(`${key}: stored ${rows.length} times, expected once${codes ? ` (rejected as ${[...codes].join('/')})` : ''}`);
        else if (rows[0].user_id !== e.userId || rows[0].type !== e.type || new Date(rows[0].occurred_at).getTime() !== e.at.getTime()) problems.push(`${key}: stored with other content`);
        else rowOf.set(e, rows[0]);
      } else {
        expectRejected++;
        if (rows.length > 0) problems.push(`${key}: stored, expected rejected as ${e.expect}`);
        if (!codes?.has(e.expect) || codes.size !== 1) problems.push(`${key}: rejected as ${codes ? [...codes].join('/') : 'nothing'}, expected ${e.expect}`);
      }
    }
  }
  for (const dev of pushLive) {
    for (const e of dev.events) {
      const key = `${dev.id}/u${e.userId}/${storedInstant(dev, e).getTime()}`;
      seen.add(key);
      const rows = stored.get(key) ?? [];
      if (e.expect === 'stored') {
        expectStored++;
        if (rows.length !== 1) problems.push(`PUSH ${dev.sn} ${key}: stored ${rows.length} times, expected once`);
        else if (rows[0].type !== e.type) problems.push(`PUSH ${dev.sn} ${key}: stored as ${rows[0].type}, expected ${e.type}`);
        // A 3.x terminal's measured temperature is kept on the punch; a 2.x terminal sends none.
        else if (dev.family === '3.x' && rows[0].temperature !== e.temperature) problems.push(`PUSH ${dev.sn} ${key}: stored with temperature ${rows[0].temperature}, expected ${e.temperature}`);
        else rowOf.set(e, rows[0]);
      } else {
        expectRejected++;
      }
    }
  }
  for (const key of stored.keys()) if (!seen.has(key)) problems.push(`${key}: stored but never generated`);
  checks.push({
    name: 'every generated row stored exactly once or rejected for the expected reason',
    ok: problems.length === 0,
    detail: problems.length === 0 ? `${expectStored} rows stored once, ${expectRejected} rejected as expected` : `${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`,
  });

  // Fever alerts: one per stored check-in at or above the school's threshold from a device that
  // measures temperatures (v4, PUSH 3.x), none on any other row of this fleet.
  const measures = new Set([...live.map((d) => d.index), ...pushLive.filter((d) => d.family === '3.x').map((d) => d.index)]);
  const alerts = (await listAlerts()).filter((a) => !alertsBefore.has(a.id) && a.device_id !== null && (ours.has(a.device_id) || oursPush.has(a.device_id)));
  const alertsByRow = new Map<number, ApiAlert[]>();
  for (const a of alerts) alertsByRow.set(a.attendance_id ?? -1, [...(alertsByRow.get(a.attendance_id ?? -1) ?? []), a]);
  const feverProblems: string[] = [];
  let feverExpected = 0;
  const hotRows = new Set<number>();
  for (const [e, row] of rowOf) {
    if (!measures.has(e.device) || e.temperature === null || e.temperature < school.fever_threshold) continue;
    feverExpected++;
    hotRows.add(row.id);
    const found = alertsByRow.get(row.id) ?? [];
    if (found.length !== 1) feverProblems.push(`row ${row.id} (device ${e.device}, ${e.temperature} °C): ${found.length} fever alerts, expected one`);
    else if (found[0].temperature !== e.temperature || found[0].user_id !== e.userId) feverProblems.push(`row ${row.id}: alert of user ${found[0].user_id} at ${found[0].temperature} °C, expected user ${e.userId} at ${e.temperature} °C`);
  }
  for (const a of alerts) if (a.attendance_id === null || !hotRows.has(a.attendance_id)) feverProblems.push(`alert ${a.id} (row ${a.attendance_id}, ${a.temperature} °C): no hot check-in generated`);
  checks.push({
    name: 'one fever alert per check-in at or above the fever threshold',
    ok: feverProblems.length === 0,
    detail: feverProblems.length === 0 ? `${feverExpected} fever alerts (threshold ${school.fever_threshold} °C)` : `${feverProblems.length} problem(s): ${feverProblems.slice(0, 5).join('; ')}`,
  });

  const allUsers = await listAll<{ id: number; enrolled_on: string; deleted_at: string | null }>(admin, `/api/users?school_id=${school.id}&include_deleted=true`);
  const events: StoredEvent[] = [
    ...before.map((a) => ({ userId: a.user_id, type: a.type, at: new Date(a.occurred_at) })),
    ...generated.events.filter((e) => e.expect === 'stored').map((e) => {
      const push = pushLive.find((d) => d.index === e.device);
      return { userId: e.userId, type: e.type, at: push ? storedInstant(push, e) : e.at };
    }),
  ];
  const figuresAt = new Date();
  const calendarRes = await http(admin.url, 'GET', `/api/schools/${school.id}/calendar`, { token: admin.token });
  const entries: CalendarEntry[] = (calendarRes.body.entries ?? []).map((e: any) => ({ kind: e.kind, label: e.label, startsOn: e.starts_on, endsOn: e.ends_on }));
  const calendar = new SchoolCalendar(school.school_days, entries);
  const expected = expectedDayFigures({
    school: { timezone: tz, dayEnd: school.day_end, calendar },
    users: allUsers.map((u) => ({ id: u.id, enrolledOn: u.enrolled_on, deletedAt: u.deleted_at ? new Date(u.deleted_at) : null })),
    events, from: days[0], to: days[days.length - 1], now: figuresAt,
  });
  // What this run generated, alone. The figures check above counts rows of an earlier run of the
  // same seed too (same school, devices and days: the same events again, under new record ids),
  // where every pupil-day doubles; reported from them, a re-run read thousands of anomalies.
  const generatedAnomalies = before.length === 0 ? expected.anomalies : expectedDayFigures({
    school: { timezone: tz, dayEnd: school.day_end, schoolDays: school.school_days }, users: [],
    events: events.slice(before.length), from: days[0], to: days[days.length - 1], now: figuresAt,
  }).anomalies;
  const res = await http(admin.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=${days[0]}&to=${days[days.length - 1]}`, { token: admin.token });
  const actual = new Map<string, { present: number; absent: number; total: number }>((res.body.buckets ?? []).map((b: any) => [b.start, b]));
  const mismatches = expected.buckets.filter((b) => {
    const a = actual.get(b.start);
    return !a || a.present !== b.present || a.absent !== b.absent || a.total !== b.total;
  }).map((b) => {
    const a = actual.get(b.start);
    return `${b.start}: api ${a ? `${a.present}/${a.absent}/${a.total}` : 'missing'}, expected ${b.present}/${b.absent}/${b.total}`;
  });
  const schoolDayBuckets = expected.buckets.filter((b) => calendar.isOpen(b.start));
  checks.push({
    name: 'per-day figures from the API equal those computed from the events',
    ok: res.status === 200 && mismatches.length === 0,
    detail: res.status !== 200 ? `aggregate answered ${res.status}` : mismatches.length === 0
      ? `${expected.buckets.length} days equal (present/total on the school days: ${schoolDayBuckets.map((b) => `${b.present}/${b.total}`).join(', ')})`
      : mismatches.slice(0, 5).join('; '),
  });

  // Closed days (the closure, the Saturday event, the weekend): nobody absent; the event's pupils present.
  const closedDays = days.filter((d) => !calendar.isOpen(d)).map((d) => ({ date: d, api: actual.get(d) as any }));
  const closedWrong = closedDays.filter(({ api }) => !api || api.absent !== 0 || api.school_day !== false);
  const eventBucket = actual.get(saturday) as any;
  const eventWrong = days.includes(saturday) && generated.counts.eventAttendees > 0 && eventBucket?.present !== generated.counts.eventAttendees;
  checks.push({
    name: 'closed days count nobody absent; who came to the Saturday event is present',
    ok: closedWrong.length === 0 && !eventWrong && (closure === null || closedDays.some((c) => c.date === closure)),
    detail: closedWrong.length > 0 ? closedWrong.map(({ date, api }) => `${date}: ${api ? `absent ${api.absent}, school_day ${api.school_day}` : 'missing'}`).join('; ')
      : eventWrong ? `${saturday}: api present ${eventBucket?.present}, expected ${generated.counts.eventAttendees}`
        : `${closedDays.map(({ date, api }) => `${date} ${api.present}/${api.total}`).join(', ')} (closure ${closure ?? 'none'}, event ${days.includes(saturday) ? saturday : 'none'})`,
  });

  const deviceRows = await listAll<{ id: string; channels: Record<string, { status: number }> }>(admin, `/api/devices?school_id=${school.id}`);
  const stuck = deviceRows.filter((d) => ours.has(d.id) && (d.channels.synchro?.status ?? 0) !== 0).map((d) => `${ours.get(d.id)!.index}: status ${d.channels.synchro.status}`);
  const failed = [...live, ...pushLive].filter((d) => d.failure).map((d) => `${d.index}: ${d.failure}`);
  for (const d of pushLive) if (d.unacked.length > 0) failed.push(`PUSH ${d.sn}: ${d.unacked.length} punches never acknowledged`);
  checks.push({
    name: 'no device left stuck',
    ok: stuck.length === 0 && failed.length === 0,
    detail: stuck.length === 0 && failed.length === 0 ? `${live.length} v4 devices idle (status 0), ${pushLive.length} PUSH terminals with every punch acknowledged` : [...stuck, ...failed].slice(0, 5).join('; '),
  });

  return {
    ok: checks.every((c) => c.ok),
    calendar: { closure, event: days.includes(saturday) ? saturday : null },
    checks,
    school: { id: school.id, name: school.name, reused },
    days,
    figures: {
      devices: live.length + pushLive.length, users: users.length, generated_rows: generated.events.length, rows_expected_stored: expectStored, rows_expected_rejected: expectRejected,
      syncs: live.reduce((n, d) => n + d.syncs, 0) + pushLive.reduce((n, d) => n + d.syncs, 0),
      retries: live.reduce((n, d) => n + d.client.retries, 0) + pushLive.reduce((n, d) => n + d.retries, 0),
      uploads_retried: live.reduce((n, d) => n + d.uploadsRetried, 0), processing_failed: live.reduce((n, d) => n + d.processingFailed, 0),
      anomalies: generatedAnomalies, rows_from_earlier_runs: before.length,
      fever_alerts_expected: feverExpected,
    },
    counts: generated.counts,
  };
}

/** Every PUSH session of these terminals imported (their OK came before the import). */
async function waitForPushImports(admin: Admin, terminals: readonly PushLive[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (const t of terminals) {
    for (;;) {
      const sessions = await listAll<{ state: string }>(admin, `/api/devices/${t.id}/sessions?channel=push`);
      if (sessions.every((x) => x.state !== 'processing') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The closure as the school's own calendar entry, through the iCalendar import (UID-keyed: a rerun changes nothing). */
async function importClosure(admin: Admin, schoolId: number, seed: number, date: string): Promise<void> {
  const compact = date.replaceAll('-', '');
  const next = addDays(date, 1).replaceAll('-', '');
  const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//attendance-sync//simulator//EN', 'BEGIN:VEVENT', `UID:sim-${seed}-closure-${compact}@simulator`,
    'DTSTAMP:20260101T000000Z', `DTSTART;VALUE=DATE:${compact}`, `DTEND;VALUE=DATE:${next}`, 'SUMMARY:Snow day (simulated)', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  const res = await http(admin.url, 'POST', `/api/schools/${schoolId}/calendar/import?kind=closure`, { token: admin.token, body: ics, headers: { 'content-type': 'text/calendar' } });
  if (res.status !== 200) throw new Error(`calendar import: ${res.status} ${JSON.stringify(res.body)}`);
}
