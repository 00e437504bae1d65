// /iclock reads a body only from a caller allowed to send it, and only so much (issue 33 §3):
// an unknown, pending or disabled serial number is answered before its body is read and the
// connection closed; a registered terminal may send what its table needs; the bodies one api
// process holds at once are capped (503 + Retry-After); a body that trickles in is cut off.
// Before, anyone could make an api hold 4 MiB per stalled connection: 250 of them took one
// from 130 MB to 1.14 GB.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PushTerminal } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

const IN_FLIGHT = 2 * 1024 * 1024;
let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
let sn = 0;

beforeAll(async () => {
  stack = await startStack({ env: { PUSH_MAX_IN_FLIGHT_BYTES: String(IN_FLIGHT), PUSH_BODY_TIMEOUT_SECONDS: '2' } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

async function registered() {
  const serial = `LIM${Date.now().toString(36).toUpperCase()}${++sn}`;
  const school = await aSchool(db.db);
  await aUser(db.db, school.id, { badge: '7001' });
  expect((await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: serial, school_id: school.id, name: serial } })).status).toBe(201);
  return { serial, school, terminal: new PushTerminal(stack.url, serial) };
}

interface RawAnswer { status: number; body: string; closed: boolean; ms: number }

/**
 * A POST whose headers promise `declared` bytes, of which only `sent` are sent: what the server
 * answers without the rest, and whether it then closes the connection.
 */
function stalledPost(path: string, declared: number, sent: number, waitMs = 10_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    let data = '';
    let answered: RawAnswer | null = null;
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${waitMs} ms`)); }, waitMs);
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: text/plain\r\nContent-Length: ${declared}\r\n\r\n`);
      socket.write(Buffer.alloc(sent, 0x61));
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      const head = data.indexOf('\r\n\r\n');
      if (head < 0 || answered) return;
      const length = Number(/content-length: (\d+)/i.exec(data.slice(0, head))?.[1] ?? 0);
      if (data.length - head - 4 < length) return;
      answered = { status: Number(data.slice(9, 12)), body: data.slice(head + 4, head + 4 + length), closed: false, ms: Date.now() - started };
      // Closed by the server soon after, or still open: either settles the test.
      setTimeout(() => { clearTimeout(timer); socket.destroy(); resolve(answered!); }, 500);
    });
    socket.on('close', () => {
      if (!answered) return;
      clearTimeout(timer);
      resolve({ ...answered, closed: true });
    });
    socket.on('error', () => undefined);
  });
}

describe('before the body is read', () => {
  test('an unknown serial number posting punches is refused at once, its body unread, its first contact recorded', async () => {
    const serial = `UNK${Date.now().toString(36).toUpperCase()}`;
    const answer = await stalledPost(`/iclock/cdata?SN=${serial}&table=ATTLOG`, 3 * 1024 * 1024, 100);
    expect(answer).toMatchObject({ status: 403, body: 'DEVICE NOT APPROVED', closed: true });
    const pending = await http(stack.url, 'GET', '/api/push/pending', { token: staff });
    expect(pending.body.items.map((p: { serial_number: string }) => p.serial_number)).toContain(serial);
  });

  test('a malformed serial number is refused at once', async () => {
    expect(await stalledPost('/iclock/cdata?SN=bad%20sn&table=ATTLOG', 1024 * 1024, 10)).toMatchObject({ status: 400, body: 'BAD SN', closed: true });
  });

  test('a disabled terminal is refused at once', async () => {
    const { serial } = await registered();
    const device = await db.db.selectFrom('devices').select('id').where('serial_number', '=', serial).executeTakeFirstOrThrow();
    expect((await http(stack.url, 'POST', `/api/devices/${device.id}/disable`, { token: staff })).status).toBe(200);
    expect(await stalledPost(`/iclock/cdata?SN=${serial}&table=ATTLOG`, 1024 * 1024, 10)).toMatchObject({ status: 403, body: 'DEVICE DISABLED', closed: true });
  });

  test('each table has its size: an options list over 64 KiB is refused by its declared length, punches of 1 MiB are read', async () => {
    const { serial, terminal } = await registered();
    expect(await stalledPost(`/iclock/cdata?SN=${serial}&table=options`, 65 * 1024, 10)).toMatchObject({ status: 413, body: 'BODY TOO LARGE', closed: true });
    const lines = Array.from({ length: 20_000 }, (_, i) => `7001\t2026-11-${String(1 + (i % 28)).padStart(2, '0')} 08:${String(Math.floor(i / 28) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}\t0\t1`);
    const body = `${lines.join('\n')}\n`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(512 * 1024);
    const sent = await terminal.upload('ATTLOG', body);
    expect(sent).toMatchObject({ status: 200, body: 'OK: 20000' });
  });
});

describe('while it is read', () => {
  test('past the bytes in flight, a registered terminal is told to come back (503 + Retry-After); the budget is given back', async () => {
    const { serial, terminal } = await registered();
    const held = [stalledPost(`/iclock/cdata?SN=${serial}&table=ATTLOG`, 1536 * 1024, 1024, 8_000)];
    await new Promise((r) => setTimeout(r, 300));
    const busy = await stalledPost(`/iclock/cdata?SN=${serial}&table=ATTLOG`, 1024 * 1024, 10);
    expect(busy).toMatchObject({ status: 503, body: 'SERVER BUSY', closed: true });
    // The first one is cut off by the body timeout (2 s here), and its bytes are free again.
    expect(await held[0]).toMatchObject({ status: 408, body: 'REQUEST TIMEOUT', closed: true });
    expect(await terminal.upload('ATTLOG', '7001\t2026-11-20 08:00:00\t0\t1\n')).toMatchObject({ status: 200, body: 'OK: 1' });
  });
});
