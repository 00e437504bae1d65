// Failed sign-ins are counted per credential and address, per credential from anywhere and,
// with a much larger budget, per address (issue 17 §2, issue 33 §6): a school's terminals share
// one NAT address, so one terminal with a stale secret must not lock its neighbours out; a
// guesser elsewhere must not lock the owner out where they always sign in; X-Forwarded-For is
// not believed unless TRUST_PROXY names the proxy.
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
  await db.db.deleteFrom('auth_known_sources').execute();
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

  test('a guesser rotating device ids is stopped by the address budget; the devices that synced from there before are not', async () => {
    const school = await aSchool(db.db);
    const [regular, newcomer] = [await aDevice(db.db, school.id), await aDevice(db.db, school.id)];
    expect((await token(stack.url, regular.id, regular.secret)).status).toBe(200);
    for (let i = 0; i < PER_ADDRESS; i++) expect((await token(stack.url, randomUUID(), 'guess')).status).toBe(401);
    const next = await token(stack.url, randomUUID(), 'guess');
    expect(next.status).toBe(429);
    // The terminal that always signs in from this address keeps syncing; one never seen here waits.
    expect((await token(stack.url, regular.id, regular.secret)).status).toBe(200);
    expect((await token(stack.url, newcomer.id, newcomer.secret)).status).toBe(429);
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

describe('a guesser does not lock the owner out', () => {
  const PER_ACCOUNT = 8;
  let proxied: TestStack;
  beforeAll(async () => {
    // Behind a trusted proxy, X-Forwarded-For stands for the client's address: several addresses from one test.
    proxied = await startStack({ databaseUrl: stack.databaseUrl, env: {
      TRUST_PROXY: 'loopback', AUTH_MAX_FAILURES: String(PER_CREDENTIAL), AUTH_MAX_ACCOUNT_FAILURES: String(PER_ACCOUNT), AUTH_MAX_ADDRESS_FAILURES: String(PER_ADDRESS),
    } });
  });
  afterAll(async () => { await proxied?.stop(); });
  const login = (email: string, password: string, from: string) =>
    http(proxied.url, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': from } });

  test('guesses spread over many addresses slow the account down for new addresses, never where the owner signed in before', async () => {
    const owner = await aStaff(db.db, 'school_admin', (await aSchool(db.db)).id);
    expect((await login(owner.email, owner.password, '198.51.100.10')).status).toBe(200);
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await login(owner.email, `guess ${i}`, `203.0.113.${i + 1}`)).status).toBe(401);
    const guesser = await login(owner.email, 'guess again', '203.0.113.99');
    expect(guesser.status).toBe(429);
    expect(Number(guesser.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner at their usual address signs in; at an address never seen, they wait like the guesser.
    expect((await login(owner.email, owner.password, '198.51.100.10')).status).toBe(200);
    expect((await login(owner.email, owner.password, '192.0.2.44')).status).toBe(429);
  });

  test('one address guessing: the pair is slowed down, longer at each failure after its block, and the owner elsewhere is not', async () => {
    const owner = await aStaff(db.db, 'school_admin', (await aSchool(db.db)).id);
    expect((await login(owner.email, owner.password, '198.51.100.20')).status).toBe(200);
    for (let i = 0; i < PER_CREDENTIAL; i++) expect((await login(owner.email, `guess ${i}`, '203.0.113.50')).status).toBe(401);
    const first = await login(owner.email, 'guess', '203.0.113.50');
    expect(first.status).toBe(429);
    expect(Number(first.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect((await login(owner.email, owner.password, '198.51.100.20')).status).toBe(200);
    // The block runs out; the next wrong guess blocks it for twice as long.
    await db.db.updateTable('auth_throttle').set({ blocked_until: new Date(Date.now() - 1000) }).where('key', '=', `staff:${owner.email.toLowerCase()}@203.0.113.50`).execute();
    expect((await login(owner.email, 'guess', '203.0.113.50')).status).toBe(401);
    const second = await login(owner.email, 'guess', '203.0.113.50');
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(30);
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
