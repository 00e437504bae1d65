// /api/schools: backoffice manages schools; a school admin reads only their own; everything
// else is 404 (another school) or 403 (a change a school admin may not make).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aDevice, aSchool, aStaff, aUser } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { aWorld, type World } from './world.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let w: World;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
});

const fullSchool = { name: 'Lycée Pasteur', timezone: 'Europe/Paris', school_days: [1, 2, 3, 4, 5, 6], day_end: '18:30', fever_threshold: 37.8 };

describe('backoffice', () => {
  test('creates a school with the documented defaults, then lists and shows it', async () => {
    const created = await http(suite.url, 'POST', '/api/schools', { token: w.backoffice.token, body: { name: 'École Jules Ferry' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'École Jules Ferry', timezone: 'UTC', school_days: [1, 2, 3, 4, 5], day_end: '17:00', fever_threshold: 37.5 });
    expect(typeof created.body.id).toBe('number');

    const shown = await http(suite.url, 'GET', `/api/schools/${created.body.id}`, { token: w.backoffice.token });
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual(created.body);

    const list = await http(suite.url, 'GET', '/api/schools?limit=500', { token: w.backoffice.token });
    expect(list.status).toBe(200);
    const ids = list.body.items.map((s: { id: number }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([w.schoolA.id, w.schoolB.id, created.body.id]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(list.body.next_cursor).toBeNull();
  });

  test('pages through schools by id with limit and cursor', async () => {
    for (let i = 0; i < 5; i++) await aSchool(suite.db);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await http(suite.url, 'GET', `/api/schools?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: w.backoffice.token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((s: { id: number }) => s.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const all = await suite.db.selectFrom('schools').select('id').orderBy('id').execute();
    expect(seen).toEqual(all.map((s) => s.id));
  });

  test('PUT replaces every editable field and needs them all; PATCH changes only the given ones', async () => {
    const school = await aSchool(suite.db);
    const put = await http(suite.url, 'PUT', `/api/schools/${school.id}`, { token: w.backoffice.token, body: fullSchool });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject(fullSchool);

    const partial = await http(suite.url, 'PUT', `/api/schools/${school.id}`, { token: w.backoffice.token, body: { name: 'Only a name' } });
    expect(partial.status).toBe(422);
    expect(partial.body.code).toBe('validation_failed');
    expect(partial.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.day_end', 'body.fever_threshold', 'body.school_days', 'body.timezone']);

    const patched = await http(suite.url, 'PATCH', `/api/schools/${school.id}`, { token: w.backoffice.token, body: { fever_threshold: 38 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ ...fullSchool, fever_threshold: 38 });
    const stored = await suite.db.selectFrom('schools').selectAll().where('id', '=', school.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ name: fullSchool.name, timezone: 'Europe/Paris', day_end: '18:30:00', fever_threshold: 38 });
  });

  test('refuses a wrong time zone, day list, day end or threshold, and unknown fields, naming each field', async () => {
    const school = await aSchool(suite.db);
    const bad = await http(suite.url, 'PATCH', `/api/schools/${school.id}`, {
      token: w.backoffice.token, body: { timezone: 'Mars/Olympus', school_days: [1, 1, 8], day_end: '25:00', fever_threshold: 50 },
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.timezone', 'body.school_days', 'body.day_end', 'body.fever_threshold']));

    const typo = await http(suite.url, 'PATCH', `/api/schools/${school.id}`, { token: w.backoffice.token, body: { fever_treshold: 38 } });
    expect(typo.status).toBe(422);
    expect(typo.body.detail).toContain('fever_treshold');
    expect((await suite.db.selectFrom('schools').select('fever_threshold').where('id', '=', school.id).executeTakeFirstOrThrow()).fever_threshold).toBe(37.5);
  });

  test('an unknown or malformed id is 404 or 422', async () => {
    expect((await http(suite.url, 'GET', '/api/schools/999999', { token: w.backoffice.token })).status).toBe(404);
    expect((await http(suite.url, 'PATCH', '/api/schools/999999', { token: w.backoffice.token, body: { name: 'x' } })).status).toBe(404);
    expect((await http(suite.url, 'PUT', '/api/schools/999999', { token: w.backoffice.token, body: fullSchool })).status).toBe(404);
    expect((await http(suite.url, 'DELETE', '/api/schools/999999', { token: w.backoffice.token })).status).toBe(404);
    const bad = await http(suite.url, 'GET', '/api/schools/abc', { token: w.backoffice.token });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('params.id');
  });

  test('deletes an empty school (its admins go with it); a school with users, even deactivated, or devices answers 409', async () => {
    const empty = await aSchool(suite.db);
    const admin = await aStaff(suite.db, 'school_admin', empty.id);
    const gone = await http(suite.url, 'DELETE', `/api/schools/${empty.id}`, { token: w.backoffice.token });
    expect(gone.status).toBe(204);
    expect((await http(suite.url, 'GET', `/api/schools/${empty.id}`, { token: w.backoffice.token })).status).toBe(404);
    expect(await suite.db.selectFrom('staff').select('id').where('id', '=', admin.id).execute()).toEqual([]);

    const withUsers = await aSchool(suite.db);
    const user = await aUser(suite.db, withUsers.id);
    await suite.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', user.id).execute();
    const refused = await http(suite.url, 'DELETE', `/api/schools/${withUsers.id}`, { token: w.backoffice.token });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('school_has_users');
    expect((await http(suite.url, 'GET', `/api/schools/${withUsers.id}`, { token: w.backoffice.token })).status).toBe(200);

    const withDevice = await aSchool(suite.db);
    await aDevice(suite.db, withDevice.id);
    const refusedToo = await http(suite.url, 'DELETE', `/api/schools/${withDevice.id}`, { token: w.backoffice.token });
    expect(refusedToo.status).toBe(409);
    expect(refusedToo.body.code).toBe('conflict');
  });
});

describe('school admin', () => {
  test('lists and shows only their own school', async () => {
    const list = await http(suite.url, 'GET', '/api/schools', { token: w.adminA.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { id: number }) => s.id)).toEqual([w.schoolA.id]);
    expect((await http(suite.url, 'GET', `/api/schools/${w.schoolA.id}`, { token: w.adminA.token })).status).toBe(200);
  });

  test("another school's id answers 404, like an id that does not exist", async () => {
    const other = await http(suite.url, 'GET', `/api/schools/${w.schoolB.id}`, { token: w.adminA.token });
    const missing = await http(suite.url, 'GET', '/api/schools/999999', { token: w.adminA.token });
    expect(other.status).toBe(404);
    expect(other.body).toEqual(missing.body);
  });

  test('may not create, change or delete schools, their own included', async () => {
    const calls = [
      http(suite.url, 'POST', '/api/schools', { token: w.adminA.token, body: { name: 'Mine now' } }),
      http(suite.url, 'PUT', `/api/schools/${w.schoolA.id}`, { token: w.adminA.token, body: fullSchool }),
      http(suite.url, 'PATCH', `/api/schools/${w.schoolA.id}`, { token: w.adminA.token, body: { name: 'Renamed' } }),
      http(suite.url, 'PATCH', `/api/schools/${w.schoolB.id}`, { token: w.adminA.token, body: { name: 'Renamed' } }),
      http(suite.url, 'DELETE', `/api/schools/${w.schoolB.id}`, { token: w.adminA.token }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    const stored = await suite.db.selectFrom('schools').select(['id', 'name']).where('id', 'in', [w.schoolA.id, w.schoolB.id]).orderBy('id').execute();
    expect(stored.map((s) => s.name)).toEqual([w.schoolA.name, w.schoolB.name]);
    expect(await suite.db.selectFrom('schools').select('id').where('name', '=', 'Mine now').execute()).toEqual([]);
  });
});

describe('no staff token', () => {
  test('anonymous callers get 401 and device tokens reach no school route', async () => {
    for (const token of [undefined, w.device]) {
      for (const [method, path] of [['GET', '/api/schools'], ['GET', `/api/schools/${w.schoolA.id}`], ['POST', '/api/schools'], ['PATCH', `/api/schools/${w.schoolA.id}`],
        ['PUT', `/api/schools/${w.schoolA.id}`], ['DELETE', `/api/schools/${w.schoolA.id}`]] as const) {
        const res = await http(suite.url, method, path, { token, body: method === 'GET' || method === 'DELETE' ? undefined : fullSchool });
        expect([res.status, res.body.code]).toEqual([401, token ? 'invalid_token' : 'unauthorized']);
      }
    }
    expect((await http(suite.url, 'GET', `/api/schools/${w.schoolA.id}`, { token: w.backoffice.token })).status).toBe(200);
  });
});
