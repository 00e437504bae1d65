// What real firmware sends (issue #27, PUSH.md §3–§5), against the real api and worker over HTTP:
// every line a terminal is answered `OK` for is in the database and in the figures (a terminal
// deletes what it was answered `OK` for), the Security PUSH 3.x registration and rtlog events,
// clock skew from real-time punches only, command results as the vendor writes them, and the
// TimeZone option in the vendor's encoding.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { PushTerminal } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
let snCounter = 0;
const nextSn = () => `FW${Date.now().toString(36).toUpperCase()}${++snCounter}`;

beforeAll(async () => {
  stack = await startStack({ worker: true, env: { PUSH_ROSTER_SECONDS: '1' } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

async function registered(schoolId: number, extra: Record<string, unknown> = {}) {
  const sn = nextSn();
  const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: schoolId, name: `Gate ${sn}`, ...extra } });
  expect(res.status).toBe(201);
  return { terminal: new PushTerminal(stack.url, sn), deviceId: res.body.id as string, sn };
}

/** Every PUSH session of the device imported; answers their stats (by file). */
async function imported(deviceId: string, sessions: number) {
  return waitFor(async () => {
    const rows = await db.db.selectFrom('sync_sessions').select(['outcome', 'stats']).where('device_id', '=', deviceId).orderBy('received_at').execute();
    return rows.length === sessions && rows.every((r) => r.outcome === 'imported') ? rows.map((r) => r.stats!) : undefined;
  }, 15_000, 'PUSH sessions imported');
}

async function punchesOf(deviceId: string) {
  return db.db.selectFrom('attendances').select(['user_id', 'type', 'pin', 'verify', 'temperature', sql<string>`to_char(local_time, 'YYYY-MM-DD HH24:MI:SS')`.as('local')])
    .where('device_id', '=', deviceId).orderBy('user_id').orderBy('local_time').execute();
}

async function secondsOn(userId: number, date: string) {
  const day = await db.db.selectFrom('user_days').select('seconds').where('user_id', '=', userId).where('date', '=', date).executeTakeFirst();
  return day?.seconds ?? null;
}

async function presentOn(schoolId: number, date: string) {
  const res = await http(stack.url, 'GET', `/api/attendances/aggregate/school/${schoolId}?period=day&from=${date}&to=${date}`, { token: staff });
  expect(res.status).toBe(200);
  return res.body.buckets[0].present as number;
}

const enrolled = { enrolled_on: '2026-10-01' };

describe('never OK and then drop', () => {
  test('ATTLOG lines of 2, 4, 13 and 20 fields, and keyed lines, are punches in the database and in the figures', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const [a, b, c] = [await aUser(db.db, school.id, { badge: '1001', ...enrolled }), await aUser(db.db, school.id, { badge: '1002', ...enrolled }), await aUser(db.db, school.id, { badge: '1003', ...enrolled })];
    const { terminal, deviceId } = await registered(school.id);
    const lines = [
      '1001\t2026-12-04 08:00:00', // PIN and time only
      '1001\t2026-12-04 16:00:00\t1\t15', // PIN, time, status, verify
      `1002\t2026-12-04 08:00:00\t0\t1${'\t0'.repeat(11)}`, // 15 fields
      `1002\t2026-12-04 16:00:00\t1\t1\t0${'\tx'.repeat(15)}`, // 20 fields
      'PIN=1003\tDateTime=2026-12-04 08:00:00\tStatus=0\tVerify=15', // keyed form
      'PIN=1003\tDateTime=2026-12-04 16:00:00\tStatus=1\tVerify=15',
    ];
    const res = await terminal.upload('ATTLOG', `${lines.join('\r\n')}\r\n`);
    expect([res.status, res.body]).toEqual([200, 'OK: 6']);
    const [stats] = await imported(deviceId, 1);
    expect(stats.ATTLOG).toMatchObject({ received: 6, accepted: 6, duplicates: 0, rejected: 0 });
    expect((await punchesOf(deviceId)).map((p) => [p.user_id, p.local, p.type, p.verify])).toEqual([
      [a.id, '2026-12-04 08:00:00', 'checkin', null], [a.id, '2026-12-04 16:00:00', 'checkout', 15],
      [b.id, '2026-12-04 08:00:00', 'checkin', 1], [b.id, '2026-12-04 16:00:00', 'checkout', 1],
      [c.id, '2026-12-04 08:00:00', 'checkin', 15], [c.id, '2026-12-04 16:00:00', 'checkout', 15],
    ]);
    for (const u of [a, b, c]) expect(await secondsOn(u.id, '2026-12-04')).toBe(8 * 3600);
    expect(await presentOn(school.id, '2026-12-04')).toBe(3);
  });
});
