// Held punches (docs/protocol/push.md §4, issue #27): a PUSH punch for a PIN no user of the school
// carries is answered OK, refused as unknown_user and held on the server; staff list it per
// terminal and PIN and import it as a user's, once, into the figures.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { importedSessions, nextSn, registeredTerminal } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;

beforeAll(async () => {
  stack = await startStack({ worker: true });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

const registered = (schoolId: number) => registeredTerminal(stack.url, staff, schoolId, { sn: nextSn('HP') });

const imported = async (deviceId: string, sessions: number) => (await importedSessions(db.db, deviceId, sessions)).map((s) => s.ATTLOG);

async function presentOn(schoolId: number, date: string) {
  const res = await http(stack.url, 'GET', `/api/attendances/aggregate/school/${schoolId}?period=day&from=${date}&to=${date}`, { token: staff });
  expect(res.status).toBe(200);
  return res.body.buckets[0].present as number;
}

describe('held punches', () => {
  test('an unknown PIN is answered OK, refused as unknown_user and held; staff import it as a user once, into the figures; a resend is not held twice', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    await aUser(db.db, school.id, { badge: '101', enrolled_on: '2026-10-01' });
    const pupil = await aUser(db.db, school.id, { badge: 'NEW-1', enrolled_on: '2026-10-01' });
    const { terminal, deviceId } = await registered(school.id);
    await terminal.handshake();

    // Status 255: no in/out, paired on import as check-in then check-out.
    const lines = ['777\t2026-12-04 08:00:00\t255\t1', '777\t2026-12-04 16:00:00\t255\t1', '101\t2026-12-04 08:05:00\t0\t1'];
    const first = await terminal.upload('ATTLOG', `${lines.join('\n')}\n`);
    expect([first.status, first.body]).toEqual([200, 'OK: 3']);
    const [stats] = await imported(deviceId, 1);
    expect(stats).toMatchObject({ received: 3, accepted: 1, rejected: 2 });
    const codes = await db.db.selectFrom('rejections').innerJoin('sync_sessions', 'sync_sessions.id', 'rejections.session_id')
      .select(['line', 'code']).where('sync_sessions.device_id', '=', deviceId).orderBy('line').execute();
    expect(codes.map((c) => [c.line, c.code])).toEqual([[1, 'unknown_user'], [2, 'unknown_user']]);

    const list = await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([{
      device_id: deviceId, device_name: expect.stringMatching(/^Gate /), source: 'push', reason: 'unknown_user', pin: '777', punches: 2, with_temperature: 0,
      first_at: '2026-12-04T07:00:00.000Z', last_at: '2026-12-04T15:00:00.000Z', user: null,
    }]);

    // The same lines again in another body (a new session): refused again, not held twice.
    const again = await terminal.upload('ATTLOG', `${[lines[1], lines[0], '101\t2026-12-04 16:10:00\t1\t1'].join('\n')}\n`);
    expect(again.body).toBe('OK: 3');
    await imported(deviceId, 2);
    expect(await db.db.selectFrom('held_punches').select(sql<number>`count(*)::int`.as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow()).toEqual({ n: 2 });
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items[0].punches).toBe(2);
    expect(await presentOn(school.id, '2026-12-04')).toBe(1);

    // A user of another school, or none: refused as a missing one.
    const elsewhere = await aUser(db.db, (await aSchool(db.db)).id);
    for (const userId of [elsewhere.id, 987654321]) {
      const wrong = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '777', user_id: userId } });
      expect([wrong.status, wrong.body.code]).toEqual([422, 'validation_failed']);
    }

    const done = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '777', user_id: pupil.id } });
    expect([done.status, done.body]).toEqual([200, { imported: 2, already: 0 }]);
    const rows = await db.db.selectFrom('attendances').select(['user_id', 'type', 'type_inferred', 'pin', 'session_id', sql<string>`to_char(local_time, 'YYYY-MM-DD HH24:MI:SS')`.as('local')])
      .where('device_id', '=', deviceId).where('pin', '=', '777').orderBy('local_time').execute();
    expect(rows.map((r) => [r.user_id, r.type, r.type_inferred, r.local])).toEqual([
      [pupil.id, 'checkin', true, '2026-12-04 08:00:00'], [pupil.id, 'checkout', true, '2026-12-04 16:00:00'],
    ]);
    expect(rows.every((r) => r.session_id !== null)).toBe(true);
    const day = await db.db.selectFrom('user_days').select(['seconds']).where('user_id', '=', pupil.id).where('date', '=', '2026-12-04').executeTakeFirst();
    expect(day?.seconds).toBe(8 * 3600);
    expect(await presentOn(school.id, '2026-12-04')).toBe(2);
    const marked = await db.db.selectFrom('held_punches').select(['imported_at', 'attendance_id']).where('device_id', '=', deviceId).execute();
    expect(marked.every((m) => m.imported_at !== null && m.attendance_id !== null)).toBe(true);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toEqual([]);

    // Once: a second call imports nothing.
    const twice = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '777', user_id: pupil.id } });
    expect([twice.status, twice.body]).toEqual([200, { imported: 0, already: 0 }]);
    expect(await db.db.selectFrom('attendances').select(sql<number>`count(*)::int`.as('n')).where('user_id', '=', pupil.id).executeTakeFirstOrThrow()).toEqual({ n: 2 });
  });

  test('the roster gains the badge: the next PUSH import imports its held punches once, as that user\'s', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const pupil = await aUser(db.db, school.id, { badge: 'LATER', enrolled_on: '2026-10-01' });
    const { terminal, deviceId } = await registered(school.id);
    await terminal.handshake();
    expect((await terminal.upload('ATTLOG', '888\t2026-12-04 08:00:00\t0\t1\n')).body).toBe('OK: 1');
    await imported(deviceId, 1);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toMatchObject([{ pin: '888', punches: 1 }]);

    const patched = await http(stack.url, 'PATCH', `/api/users/${pupil.id}`, { token: staff, body: { badge: '888' } });
    expect(patched.status).toBe(200);
    expect((await terminal.upload('ATTLOG', '888\t2026-12-04 16:00:00\t1\t1\n')).body).toBe('OK: 1');
    await imported(deviceId, 2);
    const rows = await db.db.selectFrom('attendances').select(['user_id', 'type', sql<string>`to_char(local_time, 'YYYY-MM-DD HH24:MI:SS')`.as('local')])
      .where('device_id', '=', deviceId).orderBy('local_time').execute();
    expect(rows.map((r) => [r.user_id, r.type, r.local])).toEqual([[pupil.id, 'checkin', '2026-12-04 08:00:00'], [pupil.id, 'checkout', '2026-12-04 16:00:00']]);
    const day = await db.db.selectFrom('user_days').select(['seconds']).where('user_id', '=', pupil.id).where('date', '=', '2026-12-04').executeTakeFirst();
    expect(day?.seconds).toBe(8 * 3600);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toEqual([]);
    const twice = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '888', user_id: pupil.id } });
    expect(twice.body).toEqual({ imported: 0, already: 0 });
  });

  test('a clock ahead (in_future) is answered OK, refused and held; staff release one to its PIN\'s user (clock-suspect) and discard another, each once', async () => {
    const school = await aSchool(db.db, { timezone: 'UTC' });
    const pupil = await aUser(db.db, school.id, { badge: '4242', enrolled_on: '2026-10-01' });
    const { terminal, deviceId } = await registered(school.id);
    await terminal.handshake();
    // The terminal's clock (UTC here) an hour and two hours ahead of the server.
    const local = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 19).replace('T', ' ');
    const [soon, later] = [local(3600_000), local(7200_000)];
    const sent = await terminal.upload('ATTLOG', `4242\t${soon}\t0\t1\n4343\t${later}\t1\t1\n`);
    expect(sent.body).toBe('OK: 2');
    const [stats] = await imported(deviceId, 1);
    expect(stats).toMatchObject({ received: 2, accepted: 0, rejected: 2 });
    const items = (await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items;
    expect(items.map((i: Record<string, unknown>) => [i.source, i.reason, i.pin, i.punches, i.user])).toEqual([
      ['push', 'in_future', '4343', 1, null], ['push', 'in_future', '4242', 1, { id: pupil.id, name: pupil.name }],
    ]);

    // Released without naming a user: the PIN's owner; stored clock-suspect, once.
    const released = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '4242', reason: 'in_future' } });
    expect([released.status, released.body]).toEqual([200, { imported: 1, already: 0 }]);
    const rows = await db.db.selectFrom('attendances').select(['user_id', 'type', 'clock_suspect']).where('device_id', '=', deviceId).execute();
    expect(rows).toEqual([{ user_id: pupil.id, type: 'checkin', clock_suspect: true }]);
    // No one carries 4343: a release must name the user.
    const nobody = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/import`, { token: staff, body: { pin: '4343', reason: 'in_future' } });
    expect([nobody.status, nobody.body.code]).toEqual([422, 'validation_failed']);
    const discarded = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/discard`, { token: staff, body: { pin: '4343', reason: 'in_future', device_id: deviceId } });
    expect(discarded.body).toEqual({ discarded: 1 });
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toEqual([]);
    const again = await http(stack.url, 'POST', `/api/schools/${school.id}/held-punches/discard`, { token: staff, body: { pin: '4343', reason: 'in_future' } });
    expect(again.body).toEqual({ discarded: 0 });

    // The same lines again (another body: an identical one is the same upload): held once; the released one is not listed again.
    expect((await terminal.upload('ATTLOG', `4343\t${later}\t1\t1\n4242\t${soon}\t0\t1\n`)).body).toBe('OK: 2');
    await imported(deviceId, 2);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toEqual([]);
    expect(await db.db.selectFrom('attendances').select(sql<number>`count(*)::int`.as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow()).toEqual({ n: 1 });
  });

  test('staff add a pupil the terminal enrolled to the roster: its held punches are imported in that request', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const { terminal, deviceId } = await registered(school.id);
    await terminal.handshake();
    expect((await terminal.upload('OPERLOG', 'USER PIN=555\tName=Ada Lovelace\tPri=0\n')).body).toBe('OK: 1');
    expect((await terminal.upload('ATTLOG', '555\t2026-12-04 08:00:00\t0\t1\n555\t2026-12-04 16:00:00\t1\t1\n')).body).toBe('OK: 2');
    await imported(deviceId, 1);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toMatchObject([{ pin: '555', punches: 2 }]);
    const added = await http(stack.url, 'POST', `/api/devices/${deviceId}/terminal-users/import`, { token: staff, body: { pins: ['555'] } });
    expect(added.status).toBe(201);
    const ada = added.body.created[0].id as number;
    const rows = await db.db.selectFrom('attendances').select(['user_id', 'type']).where('device_id', '=', deviceId).orderBy('local_time').execute();
    expect(rows).toEqual([{ user_id: ada, type: 'checkin' }, { user_id: ada, type: 'checkout' }]);
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: staff })).body.items).toEqual([]);
  });

  test('a school admin sees and imports only their school\'s held punches', async () => {
    const school = await aSchool(db.db);
    const other = await aSchool(db.db);
    const admin = await loginAs(stack.url, await aStaff(db.db, 'school_admin', other.id));
    const res = await http(stack.url, 'GET', `/api/schools/${school.id}/held-punches`, { token: admin });
    expect(res.status).toBe(404);
    const own = await http(stack.url, 'GET', `/api/schools/${other.id}/held-punches`, { token: admin });
    expect([own.status, own.body]).toEqual([200, { items: [] }]);
  });
});
