// RESET_SESSION acts on the server at once (PROTOCOL.md §6). No worker runs here, so an upload
// stays in status 1 — the "stuck in processing" case the flag exists for.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { aFlagWorld, aSyncingDevice, batch, flagOf, setFlag, type FlagWorld } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let w: FlagWorld;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  db = connectTestDatabase(stack.databaseUrl);
  w = await aFlagWorld(stack.url, db.db);
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

test('a session stuck in status 1 is closed at once and the device may upload again', async () => {
  const dev = await aSyncingDevice(stack.url, db.db, w.school.id);
  const up = await dev.upload(batch());
  expect(up.status).toBe(202);
  expect((await dev.upload(batch({ rosterVersion: 1 }))).body.code).toBe('sync_in_progress');

  const reset = await setFlag(stack.url, w.backoffice.token, dev.identity.id, { name: 'RESET_SESSION' });
  expect(reset.status).toBe(201);
  expect(reset.body.state).toBe('applied');
  expect((await dev.status()).body).toMatchObject({ status: 0 });

  const history = await http(stack.url, 'GET', `/api/devices/${dev.identity.id}/sessions`, { token: w.backoffice.token });
  expect(history.body.items[0]).toMatchObject({ id: up.body.session_id, state: 'closed', outcome: 'reset', acknowledged_at: null });
  const flag = await flagOf(stack.url, w.backoffice.token, dev.identity.id, reset.body.id);
  expect(flag.events.at(-1)).toMatchObject({ action: 'applied', staff_id: w.backoffice.id, details: { closed_sessions: [{ channel: 'synchro', status: 1, session_id: up.body.session_id }] } });

  const next = await dev.upload(batch({ rosterVersion: 1 }));
  expect(next.status).toBe(202);
  expect(next.body.session_id).not.toBe(up.body.session_id);
});

test('on an idle device it is still recorded, applied, with nothing closed', async () => {
  const dev = await aSyncingDevice(stack.url, db.db, w.school.id);
  const reset = await setFlag(stack.url, w.backoffice.token, dev.identity.id, { name: 'RESET_SESSION' });
  expect(reset.body.state).toBe('applied');
  const flag = await flagOf(stack.url, w.backoffice.token, dev.identity.id, reset.body.id);
  expect(flag.events.map((e: { action: string }) => e.action)).toEqual(['set', 'applied']);
  expect(flag.events[1].details).toEqual({ closed_sessions: [] });
});
