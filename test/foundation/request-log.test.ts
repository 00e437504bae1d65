// Logs are structured JSON (pino) on stdout: one line per request with method, path, status
// and duration, and nothing a caller sent as a secret.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSuiteDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { eventually, freePort, killIfRunning, runScript, type RunningProcess } from '../support/processes.js';

let proc: RunningProcess;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  proc = runScript('api/main.ts', {
    DATABASE_URL: await createSuiteDatabase(), PORT: String(port), LOG_LEVEL: 'info', JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!',
  });
  await proc.waitForLine(/"api listening"/, 60_000);
});

afterAll(async () => {
  await killIfRunning(proc, 'SIGTERM');
});

describe('request log', () => {
  test('one JSON line per request: method, path without query, status, duration; no secrets', async () => {
    const requests: Array<[string, string, number, Parameters<typeof http>[3]]> = [
      ['GET', '/healthz', 200, {}],
      ['GET', '/api/staff', 401, { token: 'not-a-real-token-but-a-secret' }],
      ['GET', '/no/such/route?password=hunter22', 404, {}],
      ['POST', '/api/auth/login', 400, { body: '{not json' }],
      ['POST', '/api/auth/login', 401, { body: { email: 'nobody@example.test', password: 'the-password-in-the-body' } }],
      ['GET', '/v4/synchro/status', 401, { token: 'a-device-token-that-is-a-secret' }],
      ['GET', '/v4/synchro/manifest', 401, {}],
    ];
    for (const [method, path, status, opts] of requests) {
      expect((await http(url, method, path, opts)).status).toBe(status);
      // PUSH terminals poll every few seconds: their calls have their own counter, no log line.
      expect((await http(url, 'GET', '/iclock/getrequest?SN=UNKNOWN1', {})).status).toBe(200);
    }

    const requestLines = () => proc.jsonLines().filter((l) => l.req !== undefined);
    await eventually(() => requestLines().length >= requests.length, 5_000, 'request log lines');
    const lines = requestLines();
    expect(lines).toHaveLength(requests.length);
    lines.forEach((line, i) => {
      const [method, path, status] = requests[i];
      expect(line.req).toEqual({ method, path: path.split('?')[0] });
      expect(line.res).toEqual({ status });
      expect(typeof line.responseTime).toBe('number');
      expect(line.level).toBe(status >= 500 ? 50 : status >= 400 ? 40 : 30);
      expect(line.msg).toMatch(new RegExp(`^${method} ${path.split('?')[0]} ${status}`));
      expect(line).toMatchObject({ name: 'api', pid: proc.pid });
      expect(typeof line.time).toBe('number');
    });

    // Everything on stdout is JSON, and no secret a caller sent reaches it.
    const stdout = proc.stdout.filter((l) => l.trim() !== '');
    expect(stdout.every((l) => l.startsWith('{'))).toBe(true);
    expect(proc.jsonLines()).toHaveLength(stdout.length);
    const text = stdout.join('\n');
    for (const secret of ['not-a-real-token-but-a-secret', 'hunter22', 'the-password-in-the-body', 'a-device-token-that-is-a-secret']) expect(text).not.toContain(secret);
  });
});

describe('request id', () => {
  test('every answer carries X-Request-Id, the same id is in its log line; a proxy\'s id is kept, a malformed one replaced', async () => {
    const plain = await http(url, 'GET', '/healthz');
    const device = await http(url, 'GET', '/v4/mobile/status?batchUuid=x', { headers: { 'x-request-id': 'proxy-abc.123' } });
    const iclock = await http(url, 'GET', '/iclock/cdata?SN=NOPE', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = plain.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(device.headers.get('x-request-id')).toBe('proxy-abc.123');
    expect(iclock.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => proc.jsonLines().some((l) => l.reqId === id), 5_000, 'the healthz line with its id');
    await eventually(() => proc.jsonLines().some((l) => l.reqId === 'proxy-abc.123' && l.req?.path === '/v4/mobile/status'), 5_000, 'the device line with its id');
  });
});

describe('readable logs (LOG_FORMAT=pretty, what `npm start` gives a terminal)', () => {
  test('lines a person can read; requests that went well only at debug, failures still shown', async () => {
    const port = await freePort();
    const pretty = runScript('api/main.ts', {
      DATABASE_URL: await createSuiteDatabase(), PORT: String(port), LOG_LEVEL: 'info', LOG_FORMAT: 'pretty', JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!',
    });
    try {
      await pretty.waitForLine(/api listening/, 60_000);
      const prettyUrl = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 5; i++) expect((await http(prettyUrl, 'GET', '/healthz', {})).status).toBe(200);
      expect((await http(prettyUrl, 'GET', '/no/such/route', {})).status).toBe(404);
      await pretty.waitForLine(/GET \/no\/such\/route 404/, 5_000);
      const lines = pretty.stdout.filter((l) => l.trim() !== '');
      expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
      expect(lines.find((l) => /api listening/.test(l))).toMatch(/^\[\d\d:\d\d:\d\d\] INFO \(api\): api listening/);
      expect(lines.find((l) => /no\/such\/route/.test(l))).toMatch(/WARN \(api\): GET \/no\/such\/route 404/);
      expect(lines.filter((l) => /GET \/healthz/.test(l))).toEqual([]);
    } finally {
      await killIfRunning(pretty, 'SIGTERM');
    }
  });
});
