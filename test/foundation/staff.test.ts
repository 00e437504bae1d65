// `/api/staff`: backoffice manages staff accounts; bodies are validated field by field, an
// email is unique whatever its case, a school admin belongs to a school, nobody deletes themself.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let me: Awaited<ReturnType<typeof aStaff>>;
let token: string;

beforeAll(async () => {
  me = await aStaff(suite.db, 'backoffice');
  token = await loginAs(suite.url, me);
});

let n = 0;
const newEmail = () => `person${++n}.${Date.now()}@example.test`;

describe('staff accounts', () => {
  test('create, show, list, update and delete; the password hash never leaves', async () => {
    const school = await aSchool(suite.db);
    const email = newEmail();
    const created = await http(suite.url, 'POST', '/api/staff', {
      token, body: { email: email.toUpperCase(), password: 'first password', role: 'school_admin', school_id: school.id, name: 'Ada' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: 'school_admin', school_id: school.id, name: 'Ada' });
    const id = created.body.id;
    expect((await loginAs(suite.url, { email, password: 'first password' })).length).toBeGreaterThan(0);

    const shown = await http(suite.url, 'GET', `/api/staff/${id}`, { token });
    expect(shown.body).toEqual(created.body);
    const listed = await http(suite.url, 'GET', '/api/staff?limit=500', { token });
    expect(listed.body.items.map((s: { id: number }) => s.id)).toContain(id);
    for (const body of [created.body, shown.body, ...listed.body.items]) {
      expect(Object.keys(body).sort()).toEqual(['created_at', 'deactivated_at', 'email', 'id', 'name', 'role', 'school_id', 'updated_at']);
    }

    const updated = await http(suite.url, 'PATCH', `/api/staff/${id}`, { token, body: { name: 'Ada L.', password: 'second password' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'Ada L.', school_id: school.id });
    const oldPassword = await http(suite.url, 'POST', '/api/auth/login', { body: { email, password: 'first password' } });
    expect(oldPassword.status).toBe(401);
    await loginAs(suite.url, { email, password: 'second password' });

    // Promoted to backoffice: the school goes with the role.
    const promoted = await http(suite.url, 'PATCH', `/api/staff/${id}`, { token, body: { role: 'backoffice' } });
    expect(promoted.body).toMatchObject({ role: 'backoffice', school_id: null });

    expect((await http(suite.url, 'DELETE', `/api/staff/${id}`, { token })).status).toBe(204);
    expect((await http(suite.url, 'GET', `/api/staff/${id}`, { token })).status).toBe(404);
    expect((await http(suite.url, 'DELETE', `/api/staff/${id}`, { token })).status).toBe(404);
    expect((await http(suite.url, 'POST', '/api/auth/login', { body: { email, password: 'second password' } })).status).toBe(401);
  });

  test('a bad body is 422 listing every failing field', async () => {
    const res = await http(suite.url, 'POST', '/api/staff', { token, body: { email: 'not-an-email', password: 'short', role: 'king' } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.email', 'body.password', 'body.role']);
    const patch = await http(suite.url, 'PATCH', `/api/staff/${me.id}`, { token, body: { email: 42 } });
    expect(patch.status).toBe(422);
    expect(patch.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.email']);
  });

  test('an email already used, in any case, is 409', async () => {
    const email = newEmail();
    expect((await http(suite.url, 'POST', '/api/staff', { token, body: { email, password: 'long enough', role: 'backoffice' } })).status).toBe(201);
    const again = await http(suite.url, 'POST', '/api/staff', { token, body: { email: email.toUpperCase(), password: 'long enough', role: 'backoffice' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_exists');

    const other = await aStaff(suite.db, 'backoffice');
    const renamed = await http(suite.url, 'PATCH', `/api/staff/${other.id}`, { token, body: { email } });
    expect(renamed.status).toBe(409);
  });

  test('a school admin needs an existing school; backoffice staff have none', async () => {
    const school = await aSchool(suite.db);
    const none = await http(suite.url, 'POST', '/api/staff', { token, body: { email: newEmail(), password: 'long enough', role: 'school_admin' } });
    expect(none.status).toBe(422);
    expect(none.body.errors).toEqual([{ field: 'body.school_id', message: 'required for a school_admin' }]);
    const unknown = await http(suite.url, 'POST', '/api/staff', { token, body: { email: newEmail(), password: 'long enough', role: 'school_admin', school_id: 999_999 } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0].field).toBe('body.school_id');
    const backofficeWithSchool = await http(suite.url, 'POST', '/api/staff', { token, body: { email: newEmail(), password: 'long enough', role: 'backoffice', school_id: school.id } });
    expect(backofficeWithSchool.status).toBe(422);

    const admin = await aStaff(suite.db, 'school_admin', school.id);
    const demoted = await http(suite.url, 'PATCH', `/api/staff/${admin.id}`, { token, body: { school_id: null } });
    expect(demoted.status).toBe(422);
  });

  test('nobody can delete their own account', async () => {
    const res = await http(suite.url, 'DELETE', `/api/staff/${me.id}`, { token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    expect((await http(suite.url, 'GET', `/api/staff/${me.id}`, { token })).status).toBe(200);
  });

  test('a school admin reaches only their own school\'s admins: never backoffice accounts, never a deletion', async () => {
    const school = await aSchool(suite.db);
    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
    for (const [method, path, status] of [['POST', '/api/staff', 403], ['GET', `/api/staff/${me.id}`, 404], ['DELETE', `/api/staff/${me.id}`, 403]] as const) {
      const res = await http(suite.url, method, path, { token: admin, ...(method === 'POST' && { body: { email: newEmail(), password: 'long enough', role: 'backoffice' } }) });
      expect([method, path, res.status]).toEqual([method, path, status]);
    }
    expect((await http(suite.url, 'GET', '/api/staff')).status).toBe(401);
  });
});
