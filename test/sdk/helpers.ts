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
