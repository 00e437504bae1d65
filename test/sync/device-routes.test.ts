// The device protocol's GET calls are answered ahead of express (api/http/device-routes.ts) and
// must be indistinguishable from express's answers: each request below is sent on the fast path
// (the exact path) and through express (the same path with a trailing slash, which express's
// non-strict routing takes and the fast path leaves alone), and the two answers compared —
// status, body, content type, ETag and its 304 — for every state and error a device meets.
// The fast path's requests are counted and logged under the declared route.
import nodeHttp from 'node:http';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { register } from 'prom-client';
import { http, type HttpResult } from '../support/http.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let dev: TestDevice;
let userId: number;

beforeAll(async () => {
  const school = await aSchool(suite.db);
  userId = (await someUsers(suite.db, school.id, 1))[0].id;
  dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
});

type Shape = { status: number; body: unknown; type: string | null; etag: string | null; auth: string | null };

function shape(res: HttpResult, volatile: string[] = []): Shape {
  let body = res.body as unknown;
  if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
    body = Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, volatile.includes(k) ? '(varies)' : v]));
  }
  return {
    status: res.status, body, type: res.headers.get('content-type'),
    etag: volatile.length ? null : res.headers.get('etag'), auth: res.headers.get('www-authenticate'),
  };
}

/** A GET with exactly these headers: status and ETag. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    nodeHttp.get(`${suite.url}${path}`, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, etag: res.headers.etag }));
    }).on('error', reject);
  });
}

/** The same GET on the fast path and through express. */
async function both(path: string, opts: { token?: string; headers?: Record<string, string> } = {}, volatile: string[] = []): Promise<[Shape, Shape]> {
  const [q, query] = path.includes('?') ? [path.indexOf('?'), path.slice(path.indexOf('?'))] : [path.length, ''];
  const fast = await http(suite.url, 'GET', path, opts);
  const viaExpress = await http(suite.url, 'GET', `${path.slice(0, q)}/${query}`, opts);
  return [shape(fast, volatile), shape(viaExpress, volatile)];
}

describe('the same answers as express', () => {
  test('status, manifest and the missing package at status 0', async () => {
    // Before the first upload changed_at is the time of the answer (so is the ETag).
    const [a, b] = await both('/v4/synchro/status', { token: dev.token }, ['changed_at']);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 200, type: 'application/json; charset=utf-8', body: { status: 0, session_id: null } });
    const [m1, m2] = await both('/v4/synchro/manifest', { token: dev.token }, ['server_time']);
    expect(m1).toEqual(m2);
    expect(m1.body).toMatchObject({ files: [{ name: 'device.xml', required: true }], high_water_marks: { 'attendances.csv': 0 } });
    const [i1, i2] = await both('/v4/synchro/instructions', { token: dev.token });
    expect(i1).toEqual(i2);
    expect(i1).toMatchObject({ status: 409, type: 'application/problem+json; charset=utf-8', body: { code: 'no_instructions_ready' } });
  });

  test('errors: no token, a bad token, an unknown channel, a malformed wait', async () => {
    for (const [path, token, code] of [
      ['/v4/synchro/status', undefined, 'invalid_token'],
      ['/v4/synchro/manifest', 'not-a-token', 'invalid_token'],
      ['/v4/nochannel/status', dev.token, 'unknown_channel'],
      ['/v4/synchro/status?wait=abc', dev.token, 'validation_failed'],
    ] as const) {
      const [a, b] = await both(path, { token });
      expect(a).toEqual(b);
      expect(a.body).toMatchObject({ code });
      expect(a.type).toBe('application/problem+json; charset=utf-8');
    }
  });

  test('the package at status 2: the same bytes, headers and 304 on its ETag', async () => {
    const csv = attendancesCsv([{ record_id: 1, user_id: userId, type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }]);
    expect((await dev.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }))).status).toBe(202);
    const [s1, s2] = await both('/v4/synchro/status?wait=5', { token: dev.token });
    expect(s1).toEqual(s2);
    expect(s1).toMatchObject({ body: { status: 2 }, etag: expect.stringMatching(/^W\/".+"$/) });
    // Express's weak ETag, and its 304 when it is sent back (plain node:http: fetch adds Cache-Control: no-cache to a conditional GET).
    const conditional = { authorization: `Bearer ${dev.token}`, 'if-none-match': s1.etag! };
    expect(await rawGet('/v4/synchro/status', conditional)).toEqual({ status: 304, etag: s1.etag });
    expect(await rawGet('/v4/synchro/status/', conditional)).toEqual({ status: 304, etag: s1.etag });
    const fast = await http(suite.url, 'GET', '/v4/synchro/instructions', { token: dev.token });
    const viaExpress = await http(suite.url, 'GET', '/v4/synchro/instructions/', { token: dev.token });
    expect(fast.status).toBe(200);
    expect(Buffer.compare(fast.body as Buffer, viaExpress.body as Buffer)).toBe(0);
    for (const name of ['content-type', 'etag', 'x-session-id', 'cache-control', 'content-disposition', 'content-length']) {
      expect([name, fast.headers.get(name)]).toEqual([name, viaExpress.headers.get(name)]);
    }
    const etag = fast.headers.get('etag')!;
    expect(await rawGet('/v4/synchro/instructions', { authorization: `Bearer ${dev.token}`, 'if-none-match': etag })).toEqual({ status: 304, etag });
  });
});

test('counted under the declared route, as express counts a request', async () => {
  const count = async () => {
    const metric = await register.getSingleMetric('http_request_duration_seconds')!.get();
    return metric.values.find((v) => (v as { metricName?: string }).metricName === 'http_request_duration_seconds_count'
      && v.labels.route === '/v4/:channel/status' && v.labels.status === '200' && v.labels.method === 'GET')?.value ?? 0;
  };
  const before = await count();
  for (let i = 0; i < 3; i++) expect((await dev.status()).status).toBe(200);
  expect(await count()).toBe(before + 3);
});
