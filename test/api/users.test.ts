// /api/users: school admins manage their own school's users, backoffice every school's;
// DELETE deactivates and keeps the history; lists page by id without gaps or repeats.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { anAttendance, aSchool, aUser, someUsers } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { aWorld, type World } from './world.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let w: World;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
});

const ids = (items: Array<{ id: number }>) => items.map((u) => u.id);

async function allPages(path: string, token: string, limit: number): Promise<{ ids: number[]; pages: number }> {
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: any = await http(suite.url, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    seen.push(...ids(res.body.items));
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor);
  return { ids: seen, pages };
}

describe('create', () => {
  test('backoffice creates a user in any school; enrolled_on defaults to today', async () => {
    const res = await http(suite.url, 'POST', '/api/users', { token: w.backoffice.token, body: { school_id: w.schoolB.id, name: 'Ada Lovelace', badge: 'B-001' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ school_id: w.schoolB.id, name: 'Ada Lovelace', badge: 'B-001', deleted_at: null });
    expect(res.body.enrolled_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const stored = await suite.db.selectFrom('users').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(stored.badge).toBe('B-001');
  });

  test('a school admin creates in their own school, with or without school_id', async () => {
    const implicit = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { name: 'Grace Hopper', badge: 'A-100', enrolled_on: '2026-09-01' } });
    expect(implicit.status).toBe(201);
    expect(implicit.body).toMatchObject({ school_id: w.schoolA.id, enrolled_on: '2026-09-01' });
    const explicit = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { school_id: w.schoolA.id, name: 'Alan Turing', badge: 'A-101' } });
    expect(explicit.status).toBe(201);
    expect(explicit.body.school_id).toBe(w.schoolA.id);
  });

  test("a school admin naming another school gets the same 422 as for a school that does not exist", async () => {
    const other = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { school_id: w.schoolB.id, name: 'Intruder', badge: 'X-1' } });
    const missing = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { school_id: 999999, name: 'Intruder', badge: 'X-1' } });
    expect(other.status).toBe(422);
    expect(other.body).toEqual(missing.body);
    expect(other.body.errors).toEqual([{ field: 'body.school_id', message: 'no such school' }]);
    expect(await suite.db.selectFrom('users').select('id').where('name', '=', 'Intruder').execute()).toEqual([]);
  });

  test('validation: missing fields, bad date, unknown fields; backoffice must name a school', async () => {
    const empty = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.badge', 'body.name']);

    const badDate = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { name: 'N', badge: 'D-1', enrolled_on: '2026-02-30', role: 'x' } });
    expect(badDate.status).toBe(422);
    expect(badDate.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['body.enrolled_on', 'body']));

    const noSchool = await http(suite.url, 'POST', '/api/users', { token: w.backoffice.token, body: { name: 'N', badge: 'D-2' } });
    expect(noSchool.status).toBe(422);
    expect(noSchool.body.errors).toEqual([{ field: 'body.school_id', message: 'required' }]);

    const notJson = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('bad_request');
  });

  test('a badge already used in the school (even by a deactivated user) is a 409; another school may reuse it', async () => {
    const first = await aUser(suite.db, w.schoolA.id, { badge: 'DUP-1' });
    await suite.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', first.id).execute();
    const dup = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { name: 'Twin', badge: 'DUP-1' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('already_exists');
    expect(dup.body.detail).toContain('badge');
    const elsewhere = await http(suite.url, 'POST', '/api/users', { token: w.adminB.token, body: { name: 'Twin', badge: 'DUP-1' } });
    expect(elsewhere.status).toBe(201);
  });
});

describe('update', () => {
  test('PUT replaces name, badge and enrolled_on and needs all three; PATCH changes only what it is given', async () => {
    const user = await aUser(suite.db, w.schoolA.id, { name: 'Before', badge: 'U-1', enrolled_on: '2026-01-05' });
    const partial = await http(suite.url, 'PUT', `/api/users/${user.id}`, { token: w.adminA.token, body: { name: 'After' } });
    expect(partial.status).toBe(422);
    expect(partial.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.badge', 'body.enrolled_on']);

    const put = await http(suite.url, 'PUT', `/api/users/${user.id}`, { token: w.adminA.token, body: { name: 'After', badge: 'U-2', enrolled_on: '2026-02-01' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: user.id, name: 'After', badge: 'U-2', enrolled_on: '2026-02-01', school_id: w.schoolA.id });
    expect(new Date(put.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(user.updated_at).getTime());

    const patch = await http(suite.url, 'PATCH', `/api/users/${user.id}`, { token: w.backoffice.token, body: { name: 'Patched' } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ name: 'Patched', badge: 'U-2', enrolled_on: '2026-02-01' });
  });

  test('a user cannot be moved to another school', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    const res = await http(suite.url, 'PATCH', `/api/users/${user.id}`, { token: w.backoffice.token, body: { school_id: w.schoolB.id } });
    expect(res.status).toBe(422);
    expect((await suite.db.selectFrom('users').select('school_id').where('id', '=', user.id).executeTakeFirstOrThrow()).school_id).toBe(w.schoolA.id);
  });

  test('changing a badge to one already used in the school is a 409', async () => {
    await aUser(suite.db, w.schoolA.id, { badge: 'TAKEN-1' });
    const user = await aUser(suite.db, w.schoolA.id);
    const res = await http(suite.url, 'PATCH', `/api/users/${user.id}`, { token: w.adminA.token, body: { badge: 'TAKEN-1' } });
    expect(res.status).toBe(409);
  });
});

describe('delete', () => {
  test('deactivates: the user stays visible by id and with include_deleted, its attendances stay', async () => {
    const school = await aSchool(suite.db);
    const user = await aUser(suite.db, school.id);
    const kept = await aUser(suite.db, school.id);
    const attendance = await anAttendance(suite.db, user);
    const res = await http(suite.url, 'DELETE', `/api/users/${user.id}`, { token: w.backoffice.token });
    expect(res.status).toBe(204);

    const shown = await http(suite.url, 'GET', `/api/users/${user.id}`, { token: w.backoffice.token });
    expect(shown.status).toBe(200);
    expect(shown.body.deleted_at).not.toBeNull();
    expect(ids((await http(suite.url, 'GET', `/api/users?school_id=${school.id}`, { token: w.backoffice.token })).body.items)).toEqual([kept.id]);
    expect(ids((await http(suite.url, 'GET', `/api/users?school_id=${school.id}&include_deleted=true`, { token: w.backoffice.token })).body.items)).toEqual([user.id, kept.id]);
    expect((await http(suite.url, 'GET', `/api/attendances/${attendance.id}`, { token: w.backoffice.token })).status).toBe(200);

    const again = await http(suite.url, 'DELETE', `/api/users/${user.id}`, { token: w.backoffice.token });
    expect(again.status).toBe(204);
    const after = await http(suite.url, 'GET', `/api/users/${user.id}`, { token: w.backoffice.token });
    expect(after.body.deleted_at).toBe(shown.body.deleted_at);
  });

  test('a school admin deactivates a user of their school', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    expect((await http(suite.url, 'DELETE', `/api/users/${user.id}`, { token: w.adminA.token })).status).toBe(204);
    expect((await suite.db.selectFrom('users').select('deleted_at').where('id', '=', user.id).executeTakeFirstOrThrow()).deleted_at).not.toBeNull();
  });
});

describe('scope', () => {
  test("another school's user answers 404 on every call, like a missing id, and is left untouched", async () => {
    const theirs = await aUser(suite.db, w.schoolB.id, { name: 'Untouched', badge: 'B-SAFE' });
    const missing = await http(suite.url, 'GET', '/api/users/999999', { token: w.adminA.token });
    const calls = await Promise.all([
      http(suite.url, 'GET', `/api/users/${theirs.id}`, { token: w.adminA.token }),
      http(suite.url, 'PUT', `/api/users/${theirs.id}`, { token: w.adminA.token, body: { name: 'Hacked', badge: 'H', enrolled_on: '2026-01-01' } }),
      http(suite.url, 'PATCH', `/api/users/${theirs.id}`, { token: w.adminA.token, body: { name: 'Hacked' } }),
      http(suite.url, 'DELETE', `/api/users/${theirs.id}`, { token: w.adminA.token }),
    ]);
    for (const res of calls) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
    const stored = await suite.db.selectFrom('users').selectAll().where('id', '=', theirs.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ name: 'Untouched', badge: 'B-SAFE', deleted_at: null });
    expect((await http(suite.url, 'GET', `/api/users/${theirs.id}`, { token: w.adminB.token })).status).toBe(200);
  });

  test("a school admin's list holds only their school, whatever school_id they ask for", async () => {
    const mine = await aUser(suite.db, w.schoolA.id);
    const theirs = await aUser(suite.db, w.schoolB.id);
    const own = await allPages('/api/users', w.adminA.token, 500);
    expect(own.ids).toContain(mine.id);
    expect(own.ids).not.toContain(theirs.id);
    const rows = await suite.db.selectFrom('users').select(['id', 'school_id']).where('id', 'in', own.ids).execute();
    expect(new Set(rows.map((r) => r.school_id))).toEqual(new Set([w.schoolA.id]));
    const asked = await http(suite.url, 'GET', `/api/users?school_id=${w.schoolB.id}`, { token: w.adminA.token });
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({ items: [], next_cursor: null });
  });

  test('anonymous callers and device tokens get 401 on every user route', async () => {
    const user = await aUser(suite.db, w.schoolA.id);
    for (const token of [undefined, w.device]) {
      for (const [method, path] of [['GET', '/api/users'], ['POST', '/api/users'], ['GET', `/api/users/${user.id}`], ['PUT', `/api/users/${user.id}`],
        ['PATCH', `/api/users/${user.id}`], ['DELETE', `/api/users/${user.id}`]] as const) {
        const res = await http(suite.url, method, path, { token, body: method === 'GET' || method === 'DELETE' ? undefined : { name: 'x', badge: 'y', enrolled_on: '2026-01-01' } });
        expect(res.status).toBe(401);
      }
    }
    expect((await suite.db.selectFrom('users').select(['name', 'deleted_at']).where('id', '=', user.id).executeTakeFirstOrThrow())).toEqual({ name: user.name, deleted_at: null });
  });
});

describe('lists', () => {
  test('pages through 1,000 users without gaps or repeats, in id order', async () => {
    const school = await aSchool(suite.db);
    const created = await someUsers(suite.db, school.id, 1000);
    await someUsers(suite.db, w.schoolB.id, 30); // in another school: never in this list
    const expected = ids(created).sort((a, b) => a - b);

    const small = await allPages(`/api/users?school_id=${school.id}`, w.backoffice.token, 37);
    expect(small.ids).toEqual(expected);
    expect(small.pages).toBe(Math.ceil(1000 / 37));

    const byDefault = await http(suite.url, 'GET', `/api/users?school_id=${school.id}`, { token: w.backoffice.token });
    expect(byDefault.body.items).toHaveLength(50);

    const big = await allPages(`/api/users?school_id=${school.id}`, w.backoffice.token, 500);
    expect(big.ids).toEqual(expected);
    expect(big.pages).toBe(2);
  });

  test('limit above 500 or below 1 and a forged cursor are 422', async () => {
    for (const query of ['limit=501', 'limit=0', 'limit=ten', 'cursor=not-a-cursor', 'include_deleted=maybe']) {
      const res = await http(suite.url, 'GET', `/api/users?${query}`, { token: w.backoffice.token });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].field).toMatch(/^query\./);
    }
  });

  test('q finds users whose name or badge contains it, ignoring case; % and _ are plain characters', async () => {
    const school = await aSchool(suite.db);
    const marie = await aUser(suite.db, school.id, { name: 'Marie Curie', badge: 'C-1' });
    const pierre = await aUser(suite.db, school.id, { name: 'Pierre', badge: 'CURIE-2' });
    await aUser(suite.db, school.id, { name: 'Irène', badge: 'J-3' });
    const percent = await aUser(suite.db, school.id, { name: '100% présent', badge: 'P_1' });
    const q = (text: string) => http(suite.url, 'GET', `/api/users?school_id=${school.id}&q=${encodeURIComponent(text)}`, { token: w.backoffice.token });
    expect(ids((await q('curie')).body.items)).toEqual([marie.id, pierre.id]);
    expect(ids((await q('%')).body.items)).toEqual([percent.id]);
    expect(ids((await q('p_')).body.items)).toEqual([percent.id]);
  });
});
