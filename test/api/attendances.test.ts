// /api/attendances: connected clients post check-ins and check-outs, validated as the device
// protocol validates a row; figures and fever events follow in the same transaction; an
// Idempotency-Key makes a post safe to retry; lists page by (occurred_at, id).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { aDevice, anAttendance, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { aWorld, type World } from './world.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let w: World;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
});

const post = (token: string, body: unknown, key?: string) =>
  http(suite.url, 'POST', '/api/attendances', { token, body, headers: key === undefined ? {} : { 'Idempotency-Key': key } });
const ids = (items: Array<{ id: number }>) => items.map((a) => a.id);
const userDay = (userId: number, date: string) =>
  suite.db.selectFrom('user_days').selectAll().where('user_id', '=', userId).where('date', '=', date).executeTakeFirst();
const countFor = async (userId: number) => Number((await suite.db.selectFrom('attendances').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);

describe('create', () => {
  test('records a REST row (no device, created_by the caller) that show and list then answer', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const res = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-03T09:15:00+01:00', temperature: 36.6 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      school_id: w.schoolA.id, user_id: user.id, type: 'checkin', occurred_at: '2025-03-03T08:15:00.000Z', temperature: 36.6,
      device_id: null, record_id: null, created_by: w.adminA.id, clock_suspect: false,
    });
    expect(res.headers.get('location')).toBe(`/api/attendances/${res.body.id}`);
    expect((await http(suite.url, 'GET', `/api/attendances/${res.body.id}`, { token: w.adminA.token })).body).toEqual(res.body);
    const list = await http(suite.url, 'GET', `/api/attendances?user_id=${user.id}`, { token: w.adminA.token });
    expect(list.body).toEqual({ items: [res.body], next_cursor: null });
  });

  test('temperature is optional; with none no fever event is raised', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const res = await post(w.adminA.token, { user_id: user.id, type: 'checkout', occurred_at: '2025-03-03T16:00:00Z' });
    expect(res.status).toBe(201);
    expect(res.body.temperature).toBeNull();
    expect(await suite.db.selectFrom('fever_events').select('id').where('attendance_id', '=', res.body.id).execute()).toEqual([]);
  });

  test("updates the user's figures as an import does: a 5-hour day, then what is left after deletes", async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const checkin = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' });
    const checkout = await post(w.adminA.token, { user_id: user.id, type: 'checkout', occurred_at: '2025-03-03T13:00:00Z' });
    expect([checkin.status, checkout.status]).toEqual([201, 201]);
    expect(await userDay(user.id, '2025-03-03')).toMatchObject({ seconds: 5 * 3600, anomalies: [], last_event_type: 'checkout' });

    // Without its checkout the day is closed at the school's day_end (17:00) and flagged.
    expect((await http(suite.url, 'DELETE', `/api/attendances/${checkout.body.id}`, { token: w.adminA.token })).status).toBe(204);
    expect(await userDay(user.id, '2025-03-03')).toMatchObject({ seconds: 9 * 3600, anomalies: ['missing_checkout'] });

    expect((await http(suite.url, 'DELETE', `/api/attendances/${checkin.body.id}`, { token: w.adminA.token })).status).toBe(204);
    expect(await userDay(user.id, '2025-03-03')).toBeUndefined();
  });

  test("a temperature at or above the school's threshold raises a fever event with the row, below it none", async () => {
    const school = await aSchool(suite.db, { fever_threshold: 37.5 });
    const admin = await aStaff(suite.db, 'school_admin', school.id);
    const token = await loginAs(suite.url, admin);
    const user = await aUser(suite.db, school.id);
    const at = (t: number) => ({ user_id: user.id, type: 'checkin', occurred_at: '2025-03-04T08:00:00Z', temperature: t });
    const below = await post(token, at(37.4));
    const equal = await post(token, at(37.5));
    const above = await post(token, at(39.05));
    expect(above.body.temperature).toBe(39.1);
    const events = await suite.db.selectFrom('fever_events').selectAll().where('school_id', '=', school.id).orderBy('id').execute();
    expect(events.map((e) => [e.attendance_id, e.temperature, e.source, e.user_id])).toEqual([
      [equal.body.id, 37.5, 'attendance', user.id],
      [above.body.id, 39.1, 'attendance', user.id],
    ]);
    expect(below.status).toBe(201);

    // Deleting the attendance deletes its fever event.
    await http(suite.url, 'DELETE', `/api/attendances/${above.body.id}`, { token });
    expect(await suite.db.selectFrom('fever_events').select('attendance_id').where('school_id', '=', school.id).execute()).toEqual([{ attendance_id: equal.body.id }]);
  });
});

describe('concurrent writes', () => {
  test("posts and deletes racing on one user's day leave the figures as the rows say", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => aUser(suite.db, w.schoolA.id)));
    const at = (user: { id: number }, type: string, time: string) => post(w.adminA.token, { user_id: user.id, type, occurred_at: `2025-03-12T${time}:00Z` });
    await Promise.all(users.map((u) => Promise.all([at(u, 'checkin', '08:00'), at(u, 'checkout', '13:00')])));
    for (const u of users) expect({ user: u.id, seconds: (await userDay(u.id, '2025-03-12'))?.seconds }).toEqual({ user: u.id, seconds: 5 * 3600 });

    // Both rows deleted at once: the day must disappear, not keep a half-recomputed state.
    const rows = await suite.db.selectFrom('attendances').select(['id', 'user_id']).where('user_id', 'in', users.map((u) => u.id)).execute();
    await Promise.all(rows.map((r) => http(suite.url, 'DELETE', `/api/attendances/${r.id}`, { token: w.adminA.token })));
    for (const u of users) expect({ user: u.id, day: await userDay(u.id, '2025-03-12') }).toEqual({ user: u.id, day: undefined });
  });
});

describe('validation, as the protocol validates a row', () => {
  let userId: number;
  beforeAll(async () => {
    userId = (await aUser(suite.db, w.schoolA.id)).id;
  });

  test('temperature outside 28–43 °C', async () => {
    for (const temperature of [27.9, 43.1, '37']) {
      const res = await post(w.adminA.token, { user_id: userId, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z', temperature });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.temperature']);
    }
    for (const temperature of [28, 43]) {
      expect((await post(w.adminA.token, { user_id: userId, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z', temperature })).status).toBe(201);
    }
  });

  test('occurred_at in the future (more than 5 minutes ahead), without an offset, or not a real date', async () => {
    const soon = new Date(Date.now() + 2 * 60_000).toISOString();
    const later = new Date(Date.now() + 10 * 60_000).toISOString();
    expect((await post(w.adminA.token, { user_id: userId, type: 'checkin', occurred_at: soon })).status).toBe(201);
    const future = await post(w.adminA.token, { user_id: userId, type: 'checkin', occurred_at: later });
    expect(future.status).toBe(422);
    expect(future.body.errors).toEqual([{ field: 'body.occurred_at', message: 'in the future' }]);
    for (const occurred_at of ['2025-03-03T08:00:00', '2025-02-30T08:00:00Z', '2025-03-03T08:00Z', 'yesterday', 1741000000]) {
      const res = await post(w.adminA.token, { user_id: userId, type: 'checkin', occurred_at });
      expect([res.status, res.body.errors[0].field]).toEqual([422, 'body.occurred_at']);
    }
  });

  test("another school's user is refused exactly like a user that does not exist", async () => {
    const theirs = await aUser(suite.db, w.schoolB.id);
    const other = await post(w.adminA.token, { user_id: theirs.id, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' });
    const missing = await post(w.adminA.token, { user_id: 999999, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' });
    expect(other.status).toBe(422);
    expect(other.body).toEqual(missing.body);
    expect(other.body.errors).toEqual([{ field: 'body.user_id', message: 'unknown user' }]);
    expect(await countFor(theirs.id)).toBe(0);
    // Backoffice may post for any school.
    expect((await post(w.backoffice.token, { user_id: theirs.id, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' })).status).toBe(201);
  });

  test('a deactivated user takes attendances from before their deactivation only', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    await suite.db.updateTable('users').set({ deleted_at: new Date('2025-06-01T00:00:00Z') }).where('id', '=', user.id).execute();
    expect((await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-05-30T08:00:00Z' })).status).toBe(201);
    const after = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-06-02T08:00:00Z' });
    expect(after.status).toBe(422);
    expect(after.body.errors[0].field).toBe('body.user_id');
  });

  test('every failing field is listed at once; unknown fields and a wrong type are refused', async () => {
    const res = await post(w.adminA.token, { user_id: 'one', type: 'in', occurred_at: 'now', temperature: 50, photo: 'x.jpg' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body', 'body.occurred_at', 'body.temperature', 'body.type', 'body.user_id']);
    for (const e of res.body.errors) expect(typeof e.message).toBe('string');
    expect((await post(w.adminA.token, undefined)).status).toBe(422);
  });
});

describe('idempotency', () => {
  test('the same key and body answer the first result again and store one row', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const body = { user_id: user.id, type: 'checkin', occurred_at: '2025-03-05T08:00:00Z', temperature: 36.8 };
    const first = await post(w.adminA.token, body, 'key-1');
    // Same content: key order and the instant's spelling do not matter.
    const again = await post(w.adminA.token, { temperature: 36.8, occurred_at: '2025-03-05T09:00:00+01:00', type: 'checkin', user_id: user.id }, 'key-1');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await countFor(user.id)).toBe(1);
    const stored = await suite.db.selectFrom('attendances').select('idempotency_key').where('id', '=', first.body.id).executeTakeFirstOrThrow();
    expect(stored.idempotency_key).toBe('key-1');
  });

  test('the same key with another body answers 409 and stores nothing', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-05T08:00:00Z' }, 'key-2');
    const other = await post(w.adminA.token, { user_id: user.id, type: 'checkout', occurred_at: '2025-03-05T08:00:00Z' }, 'key-2');
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect(await countFor(user.id)).toBe(1);
  });

  test('concurrent identical requests create one row and all answer it', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const body = { user_id: user.id, type: 'checkin', occurred_at: '2025-03-06T08:00:00Z', temperature: 38.5 };
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(w.adminA.token, body, 'race-1')));
    for (const res of answers) {
      expect(res.status).toBe(201);
      expect(res.body).toEqual(answers[0].body);
    }
    expect(await countFor(user.id)).toBe(1);
    expect(await suite.db.selectFrom('fever_events').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  test('keys belong to the caller: another staff member may use the same key', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const body = { user_id: user.id, type: 'checkin', occurred_at: '2025-03-07T08:00:00Z' };
    const mine = await post(w.adminA.token, body, 'shared-key');
    const theirs = await post(w.backoffice.token, body, 'shared-key');
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.created_by).toBe(w.backoffice.id);
  });

  test('a request that failed leaves its key free; an empty or over-long key is refused', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const failed = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-08T08:00:00Z', temperature: 20 }, 'retry-1');
    expect(failed.status).toBe(422);
    const fixed = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-08T08:00:00Z', temperature: 36 }, 'retry-1');
    expect(fixed.status).toBe(201);

    const long = await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-08T09:00:00Z' }, 'k'.repeat(201));
    expect(long.status).toBe(422);
    expect(long.body.errors[0].field).toBe('headers.Idempotency-Key');
    expect((await post(w.adminA.token, { user_id: user.id, type: 'checkin', occurred_at: '2025-03-08T09:00:00Z' }, 'k'.repeat(200))).status).toBe(201);
    expect(await countFor(user.id)).toBe(2);
  });
});

describe('lists', () => {
  test('filter by school, user, type and a [from, to) window', async () => {
    const school = await aSchool(suite.db);
    const [u1, u2] = [await aUser(suite.db, school.id), await aUser(suite.db, school.id)];
    const a = await anAttendance(suite.db, u1, { type: 'checkin', occurred_at: new Date('2025-04-01T08:00:00Z') });
    const b = await anAttendance(suite.db, u1, { type: 'checkout', occurred_at: new Date('2025-04-01T12:00:00Z') });
    const c = await anAttendance(suite.db, u2, { type: 'checkin', occurred_at: new Date('2025-04-02T08:00:00Z') });
    const list = async (query: string) => {
      const res = await http(suite.url, 'GET', `/api/attendances?school_id=${school.id}&${query}`, { token: w.backoffice.token });
      expect(res.status).toBe(200);
      return ids(res.body.items);
    };
    expect(await list('')).toEqual([a.id, b.id, c.id]);
    expect(await list(`user_id=${u1.id}`)).toEqual([a.id, b.id]);
    expect(await list('type=checkin')).toEqual([a.id, c.id]);
    expect(await list('from=2025-04-01T12:00:00Z')).toEqual([b.id, c.id]);
    expect(await list('to=2025-04-01T12:00:00Z')).toEqual([a.id]);
    expect(await list(`from=${encodeURIComponent('2025-04-01T10:00:00+02:00')}&to=2025-04-02T00:00:00Z&type=checkout`)).toEqual([b.id]);

    for (const query of ['from=2025-04-01', 'to=tomorrow', 'type=in', 'user_id=abc', 'from=2025-04-02T00:00:00Z&to=2025-04-01T00:00:00Z']) {
      const res = await http(suite.url, 'GET', `/api/attendances?${query}`, { token: w.backoffice.token });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].field).toMatch(/^query\./);
    }
  });

  test('pages by (occurred_at, id) without gaps or repeats, ties and microseconds included', async () => {
    const school = await aSchool(suite.db);
    const users = await Promise.all([aUser(suite.db, school.id), aUser(suite.db, school.id), aUser(suite.db, school.id)]);
    const base = Date.parse('2025-05-05T08:00:00Z');
    // 60 rows over 5 instants (many ties on occurred_at), inserted out of order.
    for (let i = 59; i >= 0; i--) await anAttendance(suite.db, users[i % 3], { occurred_at: new Date(base + (i % 5) * 1000) });
    // Rows a millisecond cursor would lose or repeat: microseconds apart.
    await sql`INSERT INTO attendances (school_id, user_id, type, occurred_at)
      SELECT ${school.id}, ${users[0].id}, 'checkin', timestamptz '2025-05-05T08:00:00.000100Z' + make_interval(secs => n / 1000000.0)
      FROM generate_series(1, 10) AS n`.execute(suite.db);
    const expected = (await suite.db.selectFrom('attendances').select('id').where('school_id', '=', school.id).orderBy('occurred_at').orderBy('id').execute()).map((r) => r.id);
    expect(expected).toHaveLength(70);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await http(suite.url, 'GET', `/api/attendances?school_id=${school.id}&limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: w.backoffice.token });
      expect(res.status).toBe(200);
      seen.push(...ids(res.body.items));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);

    const forged = await http(suite.url, 'GET', `/api/attendances?cursor=${Buffer.from('["drop table",1]').toString('base64url')}`, { token: w.backoffice.token });
    expect(forged.status).toBe(422);
  });
});

describe('delete', () => {
  test('staff delete any attendance in scope, a device row too; then it is gone', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const device = await aDevice(suite.db, w.schoolA.id);
    const row = await anAttendance(suite.db, user, { device_id: device.id, record_id: 42, occurred_at: new Date('2025-03-10T08:00:00Z') });
    expect((await http(suite.url, 'DELETE', `/api/attendances/${row.id}`, { token: w.adminA.token })).status).toBe(204);
    expect((await http(suite.url, 'GET', `/api/attendances/${row.id}`, { token: w.adminA.token })).status).toBe(404);
    expect((await http(suite.url, 'DELETE', `/api/attendances/${row.id}`, { token: w.adminA.token })).status).toBe(404);
    expect(await countFor(user.id)).toBe(0);
  });
});

describe('scope', () => {
  test("another school's attendance answers 404 to show and delete, like a missing id, and stays", async () => {
    const theirs = await anAttendance(suite.db, await aUser(suite.db, w.schoolB.id));
    const missing = await http(suite.url, 'GET', '/api/attendances/999999999', { token: w.adminA.token });
    for (const method of ['GET', 'DELETE']) {
      const res = await http(suite.url, method, `/api/attendances/${theirs.id}`, { token: w.adminA.token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
    expect((await http(suite.url, 'GET', `/api/attendances/${theirs.id}`, { token: w.adminB.token })).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/attendances/${theirs.id}`, { token: w.backoffice.token })).status).toBe(200);
  });

  test("a school admin's list holds only their school, whatever school_id or user_id they ask for; backoffice sees both", async () => {
    const mine = await anAttendance(suite.db, await aUser(suite.db, w.schoolA.id));
    const theirUser = await aUser(suite.db, w.schoolB.id);
    const theirs = await anAttendance(suite.db, theirUser);
    const own = await http(suite.url, 'GET', '/api/attendances?limit=500', { token: w.adminA.token });
    expect(ids(own.body.items)).toContain(mine.id);
    expect(own.body.items.every((a: { school_id: number }) => a.school_id === w.schoolA.id)).toBe(true);
    for (const query of [`school_id=${w.schoolB.id}`, `user_id=${theirUser.id}`]) {
      const res = await http(suite.url, 'GET', `/api/attendances?${query}`, { token: w.adminA.token });
      expect(res.body).toEqual({ items: [], next_cursor: null });
    }
    const all = await http(suite.url, 'GET', '/api/attendances?limit=500', { token: w.backoffice.token });
    expect(ids(all.body.items)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
  });

  test('anonymous callers and device tokens get 401 on every attendance route and change nothing', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const row = await anAttendance(suite.db, user);
    for (const token of [undefined, w.device]) {
      for (const [method, path] of [['GET', '/api/attendances'], ['POST', '/api/attendances'], ['GET', `/api/attendances/${row.id}`], ['DELETE', `/api/attendances/${row.id}`]] as const) {
        const res = await http(suite.url, method, path, { token, body: method === 'POST' ? { user_id: user.id, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' } : undefined });
        expect(res.status).toBe(401);
      }
    }
    expect(await countFor(user.id)).toBe(1);
  });
});
