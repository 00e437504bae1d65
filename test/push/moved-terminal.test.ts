// A punch belongs to the school its terminal served when it was sent (issue 33 §6): staff move
// a terminal to another school while punches it sent are still waiting for the worker; those
// are the former school's pupils', those sent after the move the new school's. Before, the
// import read the terminal's school when it ran and gave the waiting punches to the new
// school's pupil with the same badge.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { PushTerminal } from '../../simulator/push-client.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let worker: RunningWorker | null = null;

beforeAll(async () => {
  stack = await startStack(); // no worker yet: the punches wait
  db = connectTestDatabase(stack.databaseUrl);
});
afterAll(async () => {
  await worker?.stop();
  await db?.close();
  await stack?.stop();
});

test('punches waiting for the worker when their terminal moves stay with the school they were sent from', async () => {
  const staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
  const [before, after] = [await aSchool(db.db, { timezone: 'Europe/Paris' }), await aSchool(db.db, { timezone: 'Asia/Kolkata' })];
  const [anna, other] = [await aUser(db.db, before.id, { badge: '101' }), await aUser(db.db, after.id, { badge: '101' })];
  const sn = `MV${Date.now().toString(36).toUpperCase()}`;
  const registered = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: before.id, name: 'Gate' } });
  expect(registered.status).toBe(201);
  const terminal = new PushTerminal(stack.url, sn);
  expect((await terminal.punches([{ pin: '101', time: '2026-11-20 08:00:00', status: 0 }, { pin: '101', time: '2026-11-20 16:00:00', status: 1 }])).body).toBe('OK: 2');

  const moved = await http(stack.url, 'PATCH', `/api/push/terminals/${registered.body.id}`, { token: staff, body: { school_id: after.id } });
  expect(moved.status).toBe(200);
  expect((await terminal.punches([{ pin: '101', time: '2026-11-21 09:00:00', status: 0 }])).body).toBe('OK: 1');

  worker = await startWorker(stack.config, stack.databaseUrl, createLogger('test-worker', 'silent'));
  const rows = await waitFor(async () => {
    const found = await db.db.selectFrom('attendances').select(['school_id', 'user_id', 'occurred_at']).where('device_id', '=', registered.body.id).orderBy('occurred_at').execute();
    return found.length === 3 ? found : undefined;
  }, 20_000, 'the three punches imported');
  expect(rows.map((r) => [r.school_id, r.user_id, r.occurred_at.toISOString()])).toEqual([
    [before.id, anna.id, '2026-11-20T07:00:00.000Z'], // 08:00 in Paris, where the terminal was
    [before.id, anna.id, '2026-11-20T15:00:00.000Z'],
    [after.id, other.id, '2026-11-21T03:30:00.000Z'], // 09:00 in Kolkata, where it is now
  ]);
  // The former school's figures count Anna's day; the new school's pupil has none from before the move.
  const days = await db.db.selectFrom('user_days').select(['user_id', 'date', 'seconds']).where('user_id', 'in', [anna.id, other.id]).orderBy('date').execute();
  expect(days).toEqual([{ user_id: anna.id, date: '2026-11-20', seconds: 8 * 3600 }, expect.objectContaining({ user_id: other.id, date: '2026-11-21' })]);
});
