// A full import backlog (IMPORT_MAX_PENDING) answers a PUSH terminal 503 with Retry-After and
// stores nothing, so the terminal keeps its punches; the same punches are accepted once the
// backlog has drained (docs/protocol/push.md §1, §6).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { PushTerminal } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { startWorker } from '../../worker/worker.js';
import { createLogger } from '../../shared/logger.js';
import { waitFor } from '../sync/helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
beforeAll(async () => {
  // No worker at first: the first batch stays pending and fills the backlog of one.
  stack = await startStack({ env: { IMPORT_MAX_PENDING: '1', IMPORT_RETRY_AFTER_SECONDS: '7' } });
  db = connectTestDatabase(stack.databaseUrl);
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

test('503 with Retry-After while the backlog is full, nothing stored; accepted once it drained', async () => {
  const school = await aSchool(db.db);
  await aUser(db.db, school.id, { badge: '3' });
  const staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
  const sn = `BACKLOG${Date.now().toString(36).toUpperCase()}`;
  const registered = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Gate' } });
  const terminal = new PushTerminal(stack.url, sn);
  expect((await terminal.punches([{ pin: '3', time: '2026-11-20 08:00:00', status: 0 }])).body).toBe('OK: 1');
  const busy = await terminal.punches([{ pin: '3', time: '2026-11-20 16:00:00', status: 1 }]);
  expect([busy.status, busy.body, busy.headers.get('retry-after')]).toEqual([503, 'SERVER BUSY', '7']);
  const sessions = () => db.db.selectFrom('sync_sessions').select(['id', 'processed_at']).where('device_id', '=', registered.body.id).execute();
  expect(await sessions()).toHaveLength(1);

  const worker = await startWorker(stack.config, stack.databaseUrl, createLogger('test', 'silent'));
  try {
    await waitFor(async () => (await sessions()).every((s) => s.processed_at !== null), 15_000, 'backlog drained');
    const again = await waitFor(async () => {
      const res = await terminal.punches([{ pin: '3', time: '2026-11-20 16:00:00', status: 1 }]);
      return res.status === 200 ? res.body : undefined;
    }, 5000, 'accepted again');
    expect(again).toBe('OK: 1');
    await waitFor(async () => (await sessions()).every((s) => s.processed_at !== null) && (await sessions()).length === 2, 15_000, 'second batch imported');
  } finally {
    await worker.stop();
  }
  const rows = await db.db.selectFrom('attendances').select('type').where('device_id', '=', registered.body.id).orderBy('occurred_at').execute();
  expect(rows.map((r) => r.type)).toEqual(['checkin', 'checkout']);
});
