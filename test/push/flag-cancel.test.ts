// Cancelling a flag on a PUSH terminal (issue 33 §6): its commands were queued when it was set;
// they are cancelled with it, so the terminal never receives a cancelled REBOOT. Once a command
// of the flag went out, the flag is delivered and can no longer be cancelled (409), as on v4.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parseCommands } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { nextSn, registeredTerminal } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;

beforeAll(async () => {
  stack = await startStack();
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

async function aTerminal() {
  return registeredTerminal(stack.url, staff, (await aSchool(db.db)).id, { sn: nextSn('FC') });
}

test('a cancelled REBOOT is never sent, and the command history says why', async () => {
  const { terminal, deviceId } = await aTerminal();
  const reboot = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REBOOT' } });
  expect(reboot.status).toBe(201);
  const cancelled = await http(stack.url, 'DELETE', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff });
  expect(cancelled.status).toBeLessThan(300);

  expect((await terminal.poll()).body).toBe('OK');
  const history = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items;
  expect(history).toEqual([expect.objectContaining({ command: 'REBOOT', status: 'cancelled', failure: 'its flag was cancelled', sends: 0 })]);
  const flag = (await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff })).body;
  expect(flag.state).toBe('cancelled');
});

test('a flag whose command the terminal already received is delivered: cancelling it answers 409 and changes nothing', async () => {
  const { terminal, deviceId } = await aTerminal();
  const reboot = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REBOOT' } });
  const [sent] = parseCommands((await terminal.poll()).body);
  expect(sent.command).toBe('REBOOT');
  const late = await http(stack.url, 'DELETE', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff });
  expect(late.status).toBe(409);
  await terminal.results([`ID=${sent.id}&Return=0&CMD=REBOOT`]);
  const flag = (await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff })).body;
  expect(flag.state).toBe('applied');
});
