// Audit trails name people (issue 17 §6): who set a flag, who closed a session with
// RESET_SESSION, who started a rebuild, who wrote a message — by email, the id kept beside it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let schoolId: number;
let alice: Awaited<ReturnType<typeof aStaff>>;
let bob: Awaited<ReturnType<typeof aStaff>>;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  stack = await startStack(); // no worker: an upload stays in status 1 until reset
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
  [alice, bob] = [await aStaff(db.db, 'backoffice'), await aStaff(db.db, 'backoffice')];
  [aliceToken, bobToken] = [await loginAs(stack.url, alice), await loginAs(stack.url, bob)];
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

test('a flag names who set it, and a replacement names who set the one it replaced', async () => {
  const device = await aDevice(db.db, schoolId);
  const set = await http(stack.url, 'POST', `/api/devices/${device.id}/flags`, { token: aliceToken, body: { name: 'REBOOT' } });
  expect(set.status).toBe(201);
  expect(set.body).toMatchObject({ set_by: alice.id, set_by_email: alice.email });
  const replaced = await http(stack.url, 'POST', `/api/devices/${device.id}/flags`, { token: bobToken, body: { name: 'REBOOT' } });
  expect(replaced.body).toMatchObject({ replaced: true, set_by: bob.id, set_by_email: bob.email });

  const list = await http(stack.url, 'GET', `/api/devices/${device.id}/flags`, { token: aliceToken });
  expect(list.body.items[0]).toMatchObject({ set_by_email: bob.email });
  const events = await http(stack.url, 'GET', `/api/devices/${device.id}/flags/events`, { token: aliceToken });
  const replacement = events.body.items.find((e: any) => e.action === 'replaced');
  expect(replacement).toMatchObject({ staff_id: bob.id, staff_email: bob.email });
  expect(replacement.details.previous).toMatchObject({ set_by: alice.id, set_by_email: alice.email });
});

test('a session closed by RESET_SESSION names who reset it', async () => {
  const device = await aDevice(db.db, schoolId);
  const dev = await new TestDevice(stack.url, device).signIn();
  const upload = await dev.upload(batchZip({ 'device.xml': deviceXml() }));
  expect(upload.status).toBe(202);
  const reset = await http(stack.url, 'POST', `/api/devices/${device.id}/flags`, { token: bobToken, body: { name: 'RESET_SESSION' } });
  expect(reset.status).toBe(201);

  const session = await http(stack.url, 'GET', `/api/sessions/${upload.body.session_id}`, { token: aliceToken });
  expect(session.body).toMatchObject({ state: 'closed', outcome: 'reset', reset_by: { staff_id: bob.id, staff_email: bob.email } });
  const history = await http(stack.url, 'GET', `/api/devices/${device.id}/sessions`, { token: aliceToken });
  expect(history.body.items[0].reset_by).toEqual({ staff_id: bob.id, staff_email: bob.email });
});

test('a rebuild names who started it', async () => {
  const started = await http(stack.url, 'POST', `/api/schools/${schoolId}/rebuild-figures`, { token: aliceToken, body: { from: '2026-11-02', to: '2026-11-08' } });
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ requested_by: alice.id, requested_by_email: alice.email });
  const job = await http(stack.url, 'GET', `/api/jobs/${started.body.id}`, { token: bobToken });
  expect(job.body).toMatchObject({ requested_by: alice.id, requested_by_email: alice.email });
});

test('a message names who wrote it', async () => {
  const admin = await aStaff(db.db, 'school_admin', schoolId);
  const token = await loginAs(stack.url, admin);
  const sent = await http(stack.url, 'POST', '/api/messages', { token, body: { school_id: schoolId, body: 'Fire drill at 10:00' } });
  expect(sent.status).toBe(201);
  expect(sent.body).toMatchObject({ created_by: admin.id, created_by_email: admin.email });
  const list = await http(stack.url, 'GET', '/api/messages', { token: aliceToken });
  expect(list.body.items.find((m: any) => m.id === sent.body.id)).toMatchObject({ created_by_email: admin.email });
});
