// Shared by the SDK suites: a school with pupils and an enrolled mobile device, and the counts
// every fault test asserts (rows in the database: none lost, none stored twice).
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { SyncClient, type OpenOptions } from '../../sdk/src/index.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';

export const clock = schoolClock();

export async function aSchoolWithDevice(db: Db, url: string, pupils = 5) {
  const school = await aSchool(db, { timezone: clock.timezone, school_days: EVERY_DAY });
  const users = await someUsers(db, school.id, pupils);
  const device = await aDevice(db, school.id, { kind: 'mobile' });
  return { school, users, device, enrolment: { server: url, deviceId: device.id, secret: device.secret } };
}

/** Opens a client and enrols it. `waitScale` shortens the SDK's pauses. */
export async function enrolledClient(opts: OpenOptions, enrolment: { server: string; deviceId: string; secret: string }): Promise<SyncClient> {
  const client = await SyncClient.open({ waitScale: 0.05, statusWaitSeconds: 5, ...opts });
  await client.enrol(enrolment);
  return client;
}

export interface Stored {
  /** Attendances rows of the device. */
  attendances: number;
  /** Distinct (user, type, occurred_at) among them: equal to `attendances` when nothing is stored twice. */
  distinctAttendances: number;
  marks: number;
  distinctMarks: number;
}

export async function storedFor(db: Db, deviceId: string): Promise<Stored> {
  const a = await sql<{ n: number; d: number }>`
    SELECT count(*)::int AS n, count(DISTINCT (user_id, type, occurred_at))::int AS d FROM attendances WHERE device_id = ${deviceId}`.execute(db);
  const m = await sql<{ n: number; d: number }>`
    SELECT count(*)::int AS n, count(DISTINCT (user_id, date, period, mark, marked_at))::int AS d FROM marks WHERE device_id = ${deviceId}`.execute(db);
  return { attendances: a.rows[0].n, distinctAttendances: a.rows[0].d, marks: m.rows[0].n, distinctMarks: m.rows[0].d };
}

/** `n` check-ins, one per minute ending now (device clock), users in turn. */
export async function checkIns(client: SyncClient, users: ReadonlyArray<{ id: number }>, n: number, type: 'checkin' | 'checkout' = 'checkin'): Promise<void> {
  const base = Date.now() - n * 60_000;
  for (let i = 0; i < n; i++) await client.checkIn({ userId: users[i % users.length].id, type, at: new Date(base + i * 60_000) });
}

/** A call as a fetch wrapper sees it: the path (`/v4/synchro/datas`) and the method. */
export interface Call {
  path: string;
  method: string;
  /** What the client passed to fetch, to send it elsewhere. */
  url: string;
  init?: RequestInit;
}

/**
 * A `fetch` whose behaviour a test changes as it goes: `fault(call)` may answer a Response, throw
 * (the network failed), or return undefined to pass the call to the server. Every call is logged
 * with the HTTP status it got (0: failed).
 */
export function controlledFetch() {
  const log: Array<{ path: string; method: string; status: number }> = [];
  let fault: ((call: Call, forward: () => Promise<Response>) => Promise<Response | undefined> | Response | undefined) | null = null;
  let offline = false;
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const call: Call = { path: url.pathname + url.search, method: init?.method ?? 'GET', url: url.href, init };
    const entry = { path: call.path, method: call.method };
    if (offline) {
      log.push({ ...entry, status: 0 });
      throw new TypeError('fetch failed (offline)');
    }
    const forward = () => fetch(input, init);
    try {
      const res = (await fault?.(call, forward)) ?? (await forward());
      log.push({ ...entry, status: res.status });
      return res;
    } catch (err) {
      log.push({ ...entry, status: 0 });
      throw err;
    }
  };
  return {
    fetch: fetchFn,
    log,
    setFault(f: typeof fault) {
      fault = f;
    },
    setOffline(value: boolean) {
      offline = value;
    },
    /** Statuses of the calls whose path contains `part`. */
    statuses(part: string): number[] {
      return log.filter((c) => c.path.includes(part)).map((c) => c.status);
    },
  };
}

/** Sessions the server stored for the device (each accepted upload of new bytes is one). */
export async function sessionsOf(db: Db, deviceId: string): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sync_sessions WHERE device_id = ${deviceId}`.execute(db);
  return r.rows[0].n;
}
