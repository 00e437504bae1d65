// Errors are problem+json with a stable code. With NODE_ENV=production an unexpected failure
// answers a bare 500: no stack trace, no SQL, no internal message (outside production the
// message helps the developer, which shows the provocation below does reach the response).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

let production: TestStack;
let development: TestStack;
let prodDb: ReturnType<typeof connectTestDatabase>;
let devDb: ReturnType<typeof connectTestDatabase>;

beforeAll(async () => {
  production = await startStack({ env: { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-characters!' } });
  development = await startStack({ env: { NODE_ENV: 'development' } });
  prodDb = connectTestDatabase(production.databaseUrl);
  devDb = connectTestDatabase(development.databaseUrl);
});
afterAll(async () => {
  await prodDb.close();
  await devDb.close();
  await production.stop();
  await development.stop();
});

/** Breaks the attendances table under the running api, calls `run`, and puts the table back. */
async function withoutAttendancesTable<T>(db: ReturnType<typeof connectTestDatabase>, run: () => Promise<T>): Promise<T> {
  await sql`ALTER TABLE attendances RENAME TO attendances_hidden`.execute(db.db);
  try {
    return await run();
  } finally {
    await sql`ALTER TABLE attendances_hidden RENAME TO attendances`.execute(db.db);
  }
}

async function backofficeToken(stack: TestStack, db: ReturnType<typeof connectTestDatabase>): Promise<string> {
  return loginAs(stack.url, await aStaff(db.db, 'backoffice'));
}

describe('an unexpected failure (a query that fails)', () => {
  test('in production answers 500 internal_error with no stack, SQL or message', async () => {
    expect(production.config.nodeEnv).toBe('production');
    const token = await backofficeToken(production, prodDb);
    const user = await aUser(prodDb.db, (await aSchool(prodDb.db)).id);
    const [list, create] = await withoutAttendancesTable(prodDb, () => Promise.all([
      fetch(`${production.url}/api/attendances`, { headers: { authorization: `Bearer ${token}` } }),
      fetch(`${production.url}/api/attendances`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: user.id, type: 'checkin', occurred_at: '2025-03-03T08:00:00Z' }),
      }),
    ]));
    for (const res of [list, create]) {
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        type: 'urn:attendance-sync:problem:internal_error', title: 'Internal server error', status: 500, detail: 'Internal server error', code: 'internal_error',
      });
      for (const leak of ['attendances', 'relation', 'select', 'insert', 'stack', '.ts:', 'node_modules', 'at ']) expect(text.toLowerCase()).not.toContain(leak);
    }
    // The failed write left nothing behind, and the api works once the table is back.
    expect((await http(production.url, 'GET', '/api/attendances', { token })).body).toEqual({ items: [], next_cursor: null });
  });

  test('outside production the same failure names its cause (so the check above can fail)', async () => {
    const token = await backofficeToken(development, devDb);
    const res = await withoutAttendancesTable(devDb, () => http(development.url, 'GET', '/api/attendances', { token }));
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal_error');
    expect(res.body.detail).toContain('attendances');
    expect(res.body.stack).toBeUndefined();
  });

  test('in production known errors keep their stable code and field list, with no SQL', async () => {
    const token = await backofficeToken(production, prodDb);
    const school = await aSchool(prodDb.db);
    await aUser(prodDb.db, school.id, { badge: 'SAME' });
    const dup = await http(production.url, 'POST', '/api/users', { token, body: { school_id: school.id, name: 'Twin', badge: 'SAME' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('already_exists');
    expect(JSON.stringify(dup.body).toLowerCase()).not.toMatch(/duplicate key|constraint|insert|users_school/);

    const invalid = await http(production.url, 'PATCH', `/api/schools/${school.id}`, { token, body: { timezone: 'Nowhere/City', fever_threshold: 'hot' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.code).toBe('validation_failed');
    expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.fever_threshold', 'body.timezone']);

    const unknown = await http(production.url, 'GET', '/api/nothing-here', { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
  });
});
