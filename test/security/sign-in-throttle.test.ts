// Failed sign-ins are counted per credential and, with a much larger budget, per address
// (issue 17 §2): a school's terminals share one NAT address, so one terminal with a stale
// secret must not lock its neighbours out; X-Forwarded-For is not believed unless TRUST_PROXY
// names the proxy.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { aDevice, aSchool, aStaff } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

const PER_CREDENTIAL = 5;
const PER_ADDRESS = 20;
let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;

beforeAll(async () => {
  stack = await startStack({ env: { AUTH_MAX_FAILURES: String(PER_CREDENTIAL), AUTH_MAX_ADDRESS_FAILURES: String(PER_ADDRESS) } });
  db = connectTestDatabase(stack.databaseUrl);
});
afterEach(async () => {
  await db.db.deleteFrom('auth_throttle').execute();
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const token = (base: string, deviceId: string, secret: string, headers?: Record<string, string>) =>
  http(base, 'POST', '/v4/auth/token', { body: { device_id: deviceId, secret }, headers });

describe('devices behind one address', () => {
  test('a terminal with a stale secret is slowed down; a valid terminal at the same address keeps signing in', async () => {
    const school = await aSchool(db.db);
    const [stale, valid] = [await aDevice(db.db, school.id), await aDevice(db.db, school.id)];
    for (let i = 0; i < PER_CREDENTIAL + 6; i++) {
      const res = await token(stack.url, stale.id, 'stale secret');
      expect(res.status).toBe(i < PER_CREDENTIAL ? 401 : 429);
    }
    const blocked = await token(stack.url, stale.id, stale.secret);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);

    const neighbour = await token(stack.url, valid.id, valid.secret);
    expect(neighbour.status).toBe(200);
  });

  test('an unknown device id tried over and over does not lock out the valid devices at its address', async () => {
    const school = await aSchool(db.db);
    const valid = await aDevice(db.db, school.id);
    const unknown = randomUUID();
    for (let i = 0; i < 11; i++) await token(stack.url, unknown, 'whatever');
    expect((await token(stack.url, unknown, 'whatever')).status).toBe(429);
    expect((await token(stack.url, valid.id, valid.secret)).status).toBe(200);
  });

  test('a guesser rotating device ids is stopped by the address budget', async () => {
    const school = await aSchool(db.db);
    const valid = await aDevice(db.db, school.id);
    for (let i = 0; i < PER_ADDRESS; i++) expect((await token(stack.url, randomUUID(), 'guess')).status).toBe(401);
    const next = await token(stack.url, randomUUID(), 'guess');
    expect(next.status).toBe(429);
    // The whole address is slowed down now, valid devices included: the budget is what keeps that rare.
    expect((await token(stack.url, valid.id, valid.secret)).status).toBe(429);
  });
});

describe('staff', () => {
  test('a password guesser on one account is slowed down; another account signs in from the same address', async () => {
    const school = await aSchool(db.db);
    const [target, colleague] = [await aStaff(db.db, 'school_admin', school.id), await aStaff(db.db, 'school_admin', school.id)];
    for (let i = 0; i < PER_CREDENTIAL; i++) {
      expect((await http(stack.url, 'POST', '/api/auth/login', { body: { email: target.email, password: `guess ${i}` } })).status).toBe(401);
    }
    // The same account in other letter case is the same credential.
    const again = await http(stack.url, 'POST', '/api/auth/login', { body: { email: target.email.toUpperCase(), password: target.password } });
    expect(again.status).toBe(429);
    const other = await http(stack.url, 'POST', '/api/auth/login', { body: { email: colleague.email, password: colleague.password } });
    expect(other.status).toBe(200);
  });
});

describe('X-Forwarded-For', () => {
  test('is ignored by default: rotating it does not escape the address budget', async () => {
    for (let i = 0; i < PER_ADDRESS; i++) {
      await token(stack.url, randomUUID(), 'guess', { 'x-forwarded-for': `203.0.113.${i + 1}` });
    }
    const res = await token(stack.url, randomUUID(), 'guess', { 'x-forwarded-for': '198.51.100.77' });
    expect(res.status).toBe(429);
  });

  test('is believed from the proxies TRUST_PROXY names', async () => {
    const proxied = await startStack({ databaseUrl: stack.databaseUrl, env: { TRUST_PROXY: 'loopback', AUTH_MAX_FAILURES: '5', AUTH_MAX_ADDRESS_FAILURES: '3' } });
    try {
      for (let i = 0; i < 6; i++) {
        const res = await token(proxied.url, randomUUID(), 'guess', { 'x-forwarded-for': `203.0.113.${i + 1}` });
        expect(res.status).toBe(401);
      }
      const keys = await db.db.selectFrom('auth_throttle').select('key').where('key', 'like', 'address:%').orderBy('key').execute();
      expect(keys.map((k) => k.key)).toContain('address:203.0.113.6');
    } finally {
      await proxied.stop();
    }
  });
});
