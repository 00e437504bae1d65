// `GET /healthz`: 200 once the database is reachable, migrated and the job queue has started;
// 503 `not_ready` otherwise — and the api listens in every case, so it can say so.
import { afterEach, describe, expect, test } from '@jest/globals';
import { prepareDatabase } from '../../db/setup.js';
import { createLogger } from '../../shared/logger.js';
import { VERSION } from '../../shared/version.js';
import { createEmptyDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { eventually, freePort } from '../support/processes.js';
import { startStack, type TestStack } from '../support/services.js';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('GET /healthz', () => {
  test('answers 200 on a migrated database', async () => {
    stack = await startStack();
    const res = await http(stack.url, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: VERSION });
  });

  test('answers 503 not_ready before migrations, and 200 once they are applied, with no restart', async () => {
    const databaseUrl = await createEmptyDatabase();
    stack = await startStack({ databaseUrl });
    const before = await http(stack.url, 'GET', '/healthz');
    expect(before.status).toBe(503);
    expect(before.headers.get('content-type')).toContain('application/problem+json');
    expect(before.body).toMatchObject({ code: 'not_ready', status: 503 });

    await prepareDatabase(stack.config, databaseUrl, createLogger('test', 'silent'));
    // The api notices the migrations at once and starts its queue on the next retry.
    await eventually(async () => (await http(stack!.url, 'GET', '/healthz')).status === 200, 20_000, 'healthz 200 after migrating');
  });

  test('answers 503 not_ready while the database cannot be reached, and stops promptly', async () => {
    const closed = await freePort();
    stack = await startStack({ databaseUrl: `postgres://postgres:nothing@127.0.0.1:${closed}/attendance` });
    const res = await http(stack.url, 'GET', '/healthz');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('not_ready');
    expect(res.body.detail).toMatch(/not reachable/);
    // Other routes fail without taking the process down.
    expect((await http(stack.url, 'POST', '/api/auth/login', { body: { email: 'a@b.test', password: 'whatever1' } })).status).toBeGreaterThanOrEqual(500);
    expect((await http(stack.url, 'GET', '/healthz')).status).toBe(503);

    const started = Date.now();
    await stack.stop();
    stack = undefined;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
