// Uploads over real HTTP (issue 17 §3): a client without a valid token is answered before its
// body is read, and the bytes one api process receives at once are bounded
// (UPLOAD_MAX_IN_FLIGHT_BYTES): beyond it, 503 server_busy with Retry-After, nothing stored.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';
import { importJobCount } from '../sync/helpers.js';

const MAX_ARCHIVE = 1024 * 1024;
const IN_FLIGHT = 2_000_000;
let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let schoolId: number;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_ARCHIVE_BYTES: String(MAX_ARCHIVE), UPLOAD_MAX_IN_FLIGHT_BYTES: String(IN_FLIGHT), IMPORT_RETRY_AFTER_SECONDS: '7' } });
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: any }

/**
 * A multipart upload that declares `declaredBytes` but sends only its first 64 KiB, then waits:
 * `answer` settles once the server responds, `abort` drops the connection.
 */
function slowUpload(token: string | null, declaredBytes: number) {
  const boundary = 'x-boundary-0123456789';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="archive"; filename="a.zip"\r\nContent-Type: application/zip\r\n\r\n`);
  const url = new URL('/v4/synchro/datas', stack.url);
  const req = http.request(url, {
    method: 'POST', agent: false,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(declaredBytes), ...(token && { authorization: `Bearer ${token}` }) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined); // aborting is how a held upload ends
  req.write(Buffer.concat([head, Buffer.alloc(64 * 1024 - head.length, 0x50)]));
  return { answer, abort: () => req.destroy() };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);

async function signedIn(): Promise<TestDevice> {
  return new TestDevice(stack.url, await aDevice(db.db, schoolId)).signIn();
}

describe('the token is read before the body', () => {
  test.each([['no token', null], ['a forged token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl']])('%s: 401 while the body is still on its way', async (_what, token) => {
    const upload = slowUpload(token, 1_000_000);
    try {
      const res = await within(upload.answer, 5000, 'unauthenticated upload');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_token');
      expect(res.headers.connection).toBe('close');
    } finally {
      upload.abort();
    }
  });
});

describe('bytes received at once are bounded per process', () => {
  test('uploads beyond UPLOAD_MAX_IN_FLIGHT_BYTES get 503 server_busy with Retry-After; once the others end, the upload is accepted', async () => {
    const [a, b, c] = [await signedIn(), await signedIn(), await signedIn()];
    const jobsBefore = await importJobCount(db.db);
    // Two uploads of 1,000,000 bytes each on their way: the process holds its whole budget.
    const held = [slowUpload(a.token, 1_000_000), slowUpload(b.token, 1_000_000)];
    await new Promise((r) => setTimeout(r, 300));
    try {
      const busy = await c.upload(batchZip({ 'device.xml': deviceXml() }));
      expect(busy.status).toBe(503);
      expect(busy.body.code).toBe('server_busy');
      expect(busy.headers.get('retry-after')).toBe('7');
      expect((await c.status()).body).toMatchObject({ status: 0, session_id: null });
      expect(await importJobCount(db.db)).toBe(jobsBefore);
    } finally {
      for (const h of held) h.abort();
    }
    // Dropped connections give their reservation back.
    let accepted = await c.upload(batchZip({ 'device.xml': deviceXml() }));
    for (let i = 0; accepted.status === 503 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      accepted = await c.upload(batchZip({ 'device.xml': deviceXml() }));
    }
    expect(accepted.status).toBe(202);
  });
});
