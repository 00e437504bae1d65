// `/api/devices`: the secret is answered once and only its hash is kept; rotation, disable and
// enable decide whether a device can sign in; a school admin sees only their school's devices.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aDevice, aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let backoffice: string;

beforeAll(async () => {
  backoffice = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
});

const signIn = (device: { id: string }, secret: string) =>
  http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret } });

describe('registering a device', () => {
  test('answers the secret once; reading the device never shows the secret or its hash', async () => {
    const school = await aSchool(suite.db);
    const created = await http(suite.url, 'POST', '/api/devices', { token: backoffice, body: { school_id: school.id, name: 'Hall terminal' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ school_id: school.id, name: 'Hall terminal', kind: 'terminal', disabled_at: null });
    expect(typeof created.body.secret).toBe('string');
    expect(created.body.secret.length).toBeGreaterThanOrEqual(32);
    expect(created.body).not.toHaveProperty('secret_hash');

    const stored = await suite.db.selectFrom('devices').select('secret_hash').where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(created.body.secret);

    const shown = await http(suite.url, 'GET', `/api/devices/${created.body.id}`, { token: backoffice });
    const listed = await http(suite.url, 'GET', `/api/devices?school_id=${school.id}`, { token: backoffice });
    expect(shown.status).toBe(200);
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([created.body.id]);
    for (const text of [JSON.stringify(shown.body), JSON.stringify(listed.body)]) {
      expect(text).not.toContain(created.body.secret);
      expect(text).not.toContain(stored.secret_hash);
      expect(text).not.toMatch(/"secret(_hash)?"/);
    }
    expect((await signIn(created.body, created.body.secret)).status).toBe(200);
  });

  test('is refused with 422 naming the fields for a bad body or an unknown school', async () => {
    const bad = await http(suite.url, 'POST', '/api/devices', { token: backoffice, body: { school_id: 'one', name: '', kind: 'toaster' } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('validation_failed');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.kind', 'body.name', 'body.school_id']);

    const unknown = await http(suite.url, 'POST', '/api/devices', { token: backoffice, body: { school_id: 999_999, name: 'Ghost' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ field: 'body.school_id', message: 'no such school' }]);
  });

  test('a field the route does not take is refused, not dropped: a PUSH terminal is not registered here', async () => {
    const school = await aSchool(suite.db);
    const push = await http(suite.url, 'POST', '/api/devices', { token: backoffice, body: { school_id: school.id, name: 'Gate', protocol: 'push', serial_number: 'ABC123' } });
    expect(push.status).toBe(422);
    expect(push.body.detail).toMatch(/protocol/);
    expect(await suite.db.selectFrom('devices').select('id').where('school_id', '=', school.id).execute()).toEqual([]);
    const device = await http(suite.url, 'POST', '/api/devices', { token: backoffice, body: { school_id: school.id, name: 'Tablet' } });
    const patched = await http(suite.url, 'PATCH', `/api/devices/${device.body.id}`, { token: backoffice, body: { disabled: true } });
    expect(patched.status).toBe(422);
  });
});

describe('secrets and sign-in', () => {
  test('rotating the secret makes the old one fail and the new one work', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const rotated = await http(suite.url, 'POST', `/api/devices/${device.id}/secret`, { token: backoffice });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(device.secret);
    expect(rotated.body).not.toHaveProperty('secret_hash');

    const old = await signIn(device, device.secret);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('invalid_credentials');
    expect((await signIn(device, rotated.body.secret)).status).toBe(200);
  });

  test('a disabled device cannot sign in; enabling it restores sign-in with the same secret', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const disabled = await http(suite.url, 'POST', `/api/devices/${device.id}/disable`, { token: backoffice });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled_at).not.toBeNull();
    const again = await http(suite.url, 'POST', `/api/devices/${device.id}/disable`, { token: backoffice });
    expect(again.body.disabled_at).toBe(disabled.body.disabled_at);

    const refused = await signIn(device, device.secret);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('invalid_credentials');

    const enabled = await http(suite.url, 'POST', `/api/devices/${device.id}/enable`, { token: backoffice });
    expect(enabled.status).toBe(200);
    expect(enabled.body.disabled_at).toBeNull();
    expect((await signIn(device, device.secret)).status).toBe(200);
  });

  test('an unknown device is 404 for every action', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['POST', '/disable'], ['POST', '/enable'], ['POST', '/secret']]) {
      const res = await http(suite.url, method, `/api/devices/${id}${path}`, { token: backoffice, ...(method === 'PATCH' && { body: { name: 'x' } }) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
  });
});

describe('scope', () => {
  test('a school admin sees and manages only their school\'s devices, and gets 404 for another school\'s', async () => {
    const mine = await aSchool(suite.db);
    const other = await aSchool(suite.db);
    const myDevice = await aDevice(suite.db, mine.id);
    const theirDevice = await aDevice(suite.db, other.id);
    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', mine.id));

    const list = await http(suite.url, 'GET', '/api/devices?limit=500', { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual([myDevice.id]);
    const asked = await http(suite.url, 'GET', `/api/devices?school_id=${other.id}`, { token: admin });
    expect(asked.body).toEqual({ items: [], next_cursor: null });

    expect((await http(suite.url, 'GET', `/api/devices/${myDevice.id}`, { token: admin })).status).toBe(200);
    const foreign = await http(suite.url, 'GET', `/api/devices/${theirDevice.id}`, { token: admin });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('not_found');

    const create = await http(suite.url, 'POST', '/api/devices', { token: admin, body: { school_id: mine.id, name: 'Mine' } });
    expect(create.status).toBe(201);
    expect((await http(suite.url, 'POST', '/api/devices', { token: admin, body: { school_id: other.id, name: 'Theirs' } })).status).toBe(422);
    for (const action of ['disable', 'secret']) {
      expect((await http(suite.url, 'POST', `/api/devices/${theirDevice.id}/${action}`, { token: admin })).status).toBe(404);
    }
    expect((await signIn(theirDevice, theirDevice.secret)).status).toBe(200);
    expect((await http(suite.url, 'POST', `/api/devices/${myDevice.id}/disable`, { token: admin })).status).toBe(200);
    expect((await signIn(myDevice, myDevice.secret)).status).toBe(401);
  });

  test('the list pages with limit and next_cursor', async () => {
    const school = await aSchool(suite.db);
    const ids = [(await aDevice(suite.db, school.id)).id, (await aDevice(suite.db, school.id)).id, (await aDevice(suite.db, school.id)).id].sort();
    const first = await http(suite.url, 'GET', `/api/devices?school_id=${school.id}&limit=2`, { token: backoffice });
    expect(first.body.items.map((d: { id: string }) => d.id)).toEqual(ids.slice(0, 2));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await http(suite.url, 'GET', `/api/devices?school_id=${school.id}&limit=2&cursor=${first.body.next_cursor}`, { token: backoffice });
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[2] })], next_cursor: null });
  });
});
