// What a device reads from the protocol's GET calls (status, manifest, instructions): the same
// kind of answer as every other route of the api (api/app.ts, one HTTP path) — JSON with
// express's weak ETag (W/"<length hex>-<sha1 base64>") and a 304 when If-None-Match names it,
// problem+json errors with their WWW-Authenticate, the same answer with or without a trailing
// slash — and each request counted in http_request_duration_seconds under its declared route.
import { createHash } from 'node:crypto';
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

/** A GET with exactly these headers (fetch adds Cache-Control: no-cache to a conditional GET): status, headers, body bytes. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: nodeHttp.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    nodeHttp.get(`${suite.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

/** Express's default ETag of these bytes. */
function weakEtag(body: Buffer): string {
  return `W/"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64').slice(0, 27)}"`;
}

const bearer = () => ({ authorization: `Bearer ${dev.token}` });

/** What a device sees of an answer, without the fields that change with the time of the call. */
function seen(res: HttpResult, volatile: string[] = []) {
  const body = res.body && typeof res.body === 'object' && !Buffer.isBuffer(res.body)
    ? Object.fromEntries(Object.entries(res.body as Record<string, unknown>).map(([k, v]) => [k, volatile.includes(k) ? '(varies)' : v]))
    : res.body;
  return { status: res.status, body, type: res.headers.get('content-type'), auth: res.headers.get('www-authenticate') };
}

describe('the device protocol GET calls', () => {
  test('status and manifest: JSON with a weak ETag of its bytes, 304 on it, the same with a trailing slash', async () => {
    for (const [path, volatile] of [['/v4/synchro/status', 'changed_at'], ['/v4/synchro/manifest', 'server_time']] as const) {
      const res = await rawGet(path, bearer());
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 200, 'application/json; charset=utf-8']);
      expect(res.headers.etag).toBe(weakEtag(res.body));
      expect(res.headers['content-length']).toBe(String(res.body.length));
      const again = await rawGet(path, { ...bearer(), 'if-none-match': res.headers.etag! });
      // Within the same second the answer is the same bytes (changed_at/server_time are to the millisecond: allow a miss).
      if (again.status === 304) expect(again.body.length).toBe(0);
      else expect(again.status).toBe(200);
      const [exact, slash] = [await http(suite.url, 'GET', path, { token: dev.token }), await http(suite.url, 'GET', `${path}/`, { token: dev.token })];
      expect(seen(slash, [volatile])).toEqual(seen(exact, [volatile]));
    }
    const manifest = await http(suite.url, 'GET', '/v4/synchro/manifest', { token: dev.token });
    expect(manifest.body).toMatchObject({ files: [{ name: 'device.xml', required: true }], high_water_marks: { 'attendances.csv': 0 } });
  });

  test('errors are problem+json: no token, a bad token, an unknown channel, a malformed wait, no package yet', async () => {
    for (const [path, token, status, code, auth] of [
      ['/v4/synchro/status', undefined, 401, 'invalid_token', 'Bearer'],
      ['/v4/synchro/manifest', 'not-a-token', 401, 'invalid_token', 'Bearer'],
      ['/v4/synchro/instructions', undefined, 401, 'invalid_token', 'Bearer'],
      ['/v4/nochannel/status', dev.token, 404, 'unknown_channel', null],
      ['/v4/synchro/status?wait=abc', dev.token, 422, 'validation_failed', null],
      ['/v4/synchro/instructions', dev.token, 409, 'no_instructions_ready', null],
    ] as const) {
      const res = await http(suite.url, 'GET', path, { token });
      expect(seen(res)).toMatchObject({ status, type: 'application/problem+json; charset=utf-8', body: { code, status }, auth });
      const slash = path.includes('?') ? path.replace('?', '/?') : `${path}/`;
      expect(seen(await http(suite.url, 'GET', slash, { token }))).toEqual(seen(res));
    }
  });

  test('the package at status 2: its bytes, headers and 304 on its ETag; the status 304 on its own', async () => {
    const csv = attendancesCsv([{ record_id: 1, user_id: userId, type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }]);
    expect((await dev.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }))).status).toBe(202);
    expect((await http(suite.url, 'GET', '/v4/synchro/status?wait=5', { token: dev.token })).body).toMatchObject({ status: 2 });
    const status = await rawGet('/v4/synchro/status', bearer());
    expect(status.headers.etag).toBe(weakEtag(status.body));
    for (const path of ['/v4/synchro/status', '/v4/synchro/status/']) {
      const again = await rawGet(path, { ...bearer(), 'if-none-match': status.headers.etag! });
      expect([path, again.status, again.headers.etag, again.body.length]).toEqual([path, 304, status.headers.etag, 0]);
    }
    const pkg = await rawGet('/v4/synchro/instructions', bearer());
    expect(pkg.status).toBe(200);
    expect(pkg.headers).toMatchObject({
      'content-type': 'application/zip', etag: `"${createHash('sha256').update(pkg.body).digest('hex')}"`, 'cache-control': 'no-store',
      'content-disposition': 'attachment; filename="instructions.zip"', 'content-length': String(pkg.body.length), 'x-session-id': expect.any(String),
    });
    expect(pkg.body.subarray(0, 2).toString()).toBe('PK');
    const notModified = await rawGet('/v4/synchro/instructions', { ...bearer(), 'if-none-match': pkg.headers.etag! });
    expect([notModified.status, notModified.headers.etag, notModified.body.length]).toEqual([304, pkg.headers.etag, 0]);
  });
});

test('counted under the declared route, whatever the answer', async () => {
  const count = async (status: string) => {
    const metric = await register.getSingleMetric('http_request_duration_seconds')!.get();
    return metric.values.find((v) => (v as { metricName?: string }).metricName === 'http_request_duration_seconds_count'
      && v.labels.route === '/v4/:channel/status' && v.labels.status === status && v.labels.method === 'GET')?.value ?? 0;
  };
  const [ok, refused] = [await count('200'), await count('401')];
  for (let i = 0; i < 3; i++) expect((await dev.status()).status).toBe(200);
  expect((await http(suite.url, 'GET', '/v4/synchro/status', {})).status).toBe(401);
  expect([await count('200'), await count('401')]).toEqual([ok + 3, refused + 1]);
});
