// Staff sign-in and device tokens: what a caller sees when credentials or tokens are wrong.
import { describe, expect, test } from '@jest/globals';
import { SignJWT } from 'jose';
import { deriveKeys, signDeviceToken, signStaffToken } from '../../api/auth/tokens.js';
import { aDevice, aSchool, aStaff, deviceToken, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();


describe('staff login', () => {
  test('answers a token that opens /api, and the same 401 for a wrong password or an unknown email', async () => {
    const school = await aSchool(suite.db);
    const admin = await aStaff(suite.db, 'school_admin', school.id);
    const token = await loginAs(suite.url, admin);
    const me = await http(suite.url, 'GET', `/api/schools/${school.id}`, { token });
    expect(me.status).toBe(200);
    expect(me.body.name).toBe(school.name);

    const wrong = await http(suite.url, 'POST', '/api/auth/login', { body: { email: admin.email, password: 'not it' } });
    const unknown = await http(suite.url, 'POST', '/api/auth/login', { body: { email: 'nobody@example.test', password: 'not it' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect({ ...wrong.body }).toEqual({ ...unknown.body });
    expect(wrong.body.code).toBe('invalid_credentials');
  });

  test('a tampered, expired or foreign-kind token is refused with invalid_token', async () => {
    const backoffice = await aStaff(suite.db, 'backoffice');
    const token = await loginAs(suite.url, backoffice);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const elevated = Buffer.from(JSON.stringify({ ...claims, sub: '999' })).toString('base64url');
    const tampered = await http(suite.url, 'GET', '/api/staff', { token: `${header}.${elevated}.${signature}` });
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe('invalid_token');

    const keys = deriveKeys(suite.config.jwtSecret!);
    const expired = await new SignJWT({ role: 'backoffice', school_id: null })
      .setProtectedHeader({ alg: 'HS256', typ: 'staff+jwt' }).setSubject(String(backoffice.id)).setIssuer('attendance-sync')
      .setAudience('attendance-sync:api').setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(keys.staff);
    expect((await http(suite.url, 'GET', '/api/staff', { token: expired })).body.code).toBe('invalid_token');

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'staff+jwt' })).toString('base64url')}.${payload}.`;
    expect((await http(suite.url, 'GET', '/api/staff', { token: unsigned })).status).toBe(401);

    // A staff token signed with the device key (right secret, wrong kind) is refused too.
    const crossKind = await signStaffToken({ staff: keys.device, device: keys.device }, { staffId: backoffice.id, role: 'backoffice', schoolId: null, sessionVersion: 0 }, 60);
    expect((await http(suite.url, 'GET', '/api/staff', { token: crossKind })).status).toBe(401);

    expect((await http(suite.url, 'GET', '/api/staff')).status).toBe(401);
    expect((await http(suite.url, 'GET', '/api/staff', { token })).status).toBe(200);
  });

  test('a school admin sees only their own school\'s staff', async () => {
    const school = await aSchool(suite.db);
    const admin = await aStaff(suite.db, 'school_admin', school.id);
    const token = await loginAs(suite.url, admin);
    const res = await http(suite.url, 'GET', '/api/staff', { token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { id: number }) => s.id)).toEqual([admin.id]);
  });
});

describe('device tokens (docs/protocol/v4.md §1)', () => {
  test('unknown device, wrong secret and disabled device get the same invalid_credentials', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const disabled = await aDevice(suite.db, school.id, { disabled: true });
    const ok = await http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: device.secret } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });

    const answers = await Promise.all([
      http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: 'wrong' } }),
      http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: '00000000-0000-4000-8000-000000000000', secret: device.secret } }),
      http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: disabled.id, secret: disabled.secret } }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_credentials');
      expect(res.body.detail).toBe(answers[0].body.detail);
    }
  });

  test('a device token used within its lifetime keeps working, and stops at its expiry even once verified', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const token = await signDeviceToken(deriveKeys(suite.config.jwtSecret!), { deviceId: device.id, schoolId: school.id }, 2);
    // Verified, then answered from memory (api/auth/tokens.ts) until its `exp`.
    expect((await http(suite.url, 'GET', '/v4/synchro/status', { token })).status).toBe(200);
    expect((await http(suite.url, 'GET', '/v4/synchro/status', { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    const late = await http(suite.url, 'GET', '/v4/synchro/status', { token });
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('invalid_token');
    // A token of the same device with a flipped signature byte is refused, whatever was verified before.
    const fresh = await signDeviceToken(deriveKeys(suite.config.jwtSecret!), { deviceId: device.id, schoolId: school.id }, 60);
    expect((await http(suite.url, 'GET', '/v4/synchro/status', { token: fresh })).status).toBe(200);
    const forged = fresh.slice(0, -2) + (fresh.endsWith('AA') ? 'BB' : 'AA');
    expect((await http(suite.url, 'GET', '/v4/synchro/status', { token: forged })).status).toBe(401);
  });

  test('a device token reaches no /api resource and a staff token no /v4 call', async () => {
    const school = await aSchool(suite.db);
    const device = await aDevice(suite.db, school.id);
    const token = await deviceToken(suite.url, device);
    const onApi = await http(suite.url, 'GET', `/api/schools/${school.id}`, { token });
    expect(onApi.status).toBe(401);
    expect(onApi.body.code).toBe('invalid_token');

    const staff = await aStaff(suite.db, 'backoffice');
    const staffToken = await loginAs(suite.url, staff);
    const onDevice = await http(suite.url, 'GET', '/v4/synchro/status', { token: staffToken });
    expect(onDevice.status).toBe(401);
    expect(onDevice.body.code).toBe('invalid_token');
  });
});

describe('throttling', () => {
  test('repeated wrong passwords from one client are slowed down with 429 and Retry-After', async () => {
    const staff = await aStaff(suite.db, 'backoffice');
    let last;
    for (let i = 0; i < 10; i++) {
      last = await http(suite.url, 'POST', '/api/auth/login', { body: { email: staff.email, password: `wrong ${i}` } });
      expect(last.status).toBe(401);
    }
    const blocked = await http(suite.url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    await suite.db.deleteFrom('auth_throttle').execute();
  });
});
