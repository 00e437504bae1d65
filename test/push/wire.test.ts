// PUSH answers as the bytes a terminal reads (docs/protocol/push.md): the status line, exactly
// the headers Node itself writes plus the request id every answer carries and the answer's own
// (Content-Type, Content-Length; nothing express would add: no ETag, X-Powered-By or
// problem+json), and the plain-text body, whatever the path's case, `.aspx` or trailing slash;
// unknown paths and methods in plain text too.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';
import { nextSn, registeredTerminal } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let registeredSn: string;

beforeAll(async () => {
  stack = await startStack({});
  db = connectTestDatabase(stack.databaseUrl);
  const staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
  registeredSn = (await registeredTerminal(stack.url, staff, (await aSchool(db.db)).id)).sn;
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

/** One request written as given on its own connection; the answer's bytes, the Date and X-Request-Id values blanked. */
function raw(request: string): Promise<string> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request)); // the server closes it (Connection: close)
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')
      .replace(/\r\nDate: [^\r]+\r\n/, '\r\nDate: (now)\r\n').replace(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/, '\r\nX-Request-Id: (id)\r\n')));
    socket.on('error', reject);
  });
}

const get = (path: string, method = 'GET') => raw(`${method} ${path} HTTP/1.1\r\nHost: terminal\r\nConnection: close\r\n\r\n`);
const answer = (status: string, body: string, extra = '') =>
  `HTTP/1.1 ${status}\r\nX-Request-Id: (id)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Date: (now)\r\nConnection: close\r\n\r\n${body}`;

describe('the bytes on the wire', () => {
  test('an idle poll, from any spelling of its path', async () => {
    for (const path of ['/iclock/getrequest', '/iclock/getrequest.aspx', '/ICLOCK/GetRequest/', '/iclock/getrequest.aspx/']) {
      expect([path, await get(`${path}?SN=${registeredSn}`)]).toEqual([path, answer('200 OK', 'OK')]);
    }
    // HEAD: the same headers, no body.
    expect(await get(`/iclock/getrequest?SN=${registeredSn}`, 'HEAD')).toBe(answer('200 OK', 'OK').slice(0, -2));
  });

  test('refusals: a bad serial number, an unknown path, a method the path does not take', async () => {
    expect(await get('/iclock/getrequest?SN=bad%20sn')).toBe(answer('400 Bad Request', 'BAD SN'));
    expect(await get('/iclock/nothing-here?SN=X1')).toBe(answer('404 Not Found', 'NOT FOUND'));
    expect(await get('/iclock/cdata/more?SN=X1')).toBe(answer('404 Not Found', 'NOT FOUND'));
    expect(await get(`/iclock/devicecmd?SN=${registeredSn}`)).toBe(answer('405 Method Not Allowed', 'METHOD NOT ALLOWED'));
  });

  test('an upload: `OK: <n>` after the body, the handshake\'s option lines', async () => {
    const body = '1\t2026-11-20 08:00:00\t0\t1\t\t0\t0\n';
    const post = await raw(`POST /iclock/cdata?SN=${registeredSn}&table=ATTLOG&Stamp=1 HTTP/1.1\r\nHost: terminal\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(post).toBe(answer('200 OK', 'OK: 1'));
    const hello = await get(`/iclock/cdata?SN=${registeredSn}&options=all&pushver=2.4.1`);
    expect(hello).toMatch(/^HTTP\/1\.1 200 OK\r\nX-Request-Id: \(id\)\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Length: \d+\r\nDate: \(now\)\r\nConnection: close\r\n\r\nGET OPTION FROM: /);
    expect(hello.split('\r\n\r\n')[1].split('\n').at(-1)).toBe('');
  });
});
