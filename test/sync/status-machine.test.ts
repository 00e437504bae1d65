// docs/protocol/v4.md §2–§3: the status flag goes 0 → 1 → 2 → 0 and every call answers as the
// contract says in each state; a device token only ever reaches its own device's state.
// The worker is started by the test once status 1 has been looked at, so every state is seen.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { attendancesCsv, batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { sessionCount } from './helpers.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let worker: RunningWorker | null = null;
let schoolId: number;
let userIds: number[];

beforeAll(async () => {
  schoolId = (await aSchool(suite.db)).id;
  userIds = (await someUsers(suite.db, schoolId, 2)).map((u) => u.id);
});
afterAll(async () => {
  await worker?.stop();
});

const startTheWorker = async () => {
  worker ??= await startWorker(suite.config, suite.databaseUrl, createLogger('test-worker', 'silent'));
};

const OTHER_SESSION = '00000000-0000-4000-8000-000000000000';

function batch(recordId: number): Buffer {
  return batchZip({
    'device.xml': deviceXml(),
    'attendances.csv': attendancesCsv([{ record_id: recordId, user_id: userIds[0], type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }]),
  });
}

describe('a whole sync, state by state', () => {
  let dev: TestDevice;
  let archive: Buffer;
  let sessionId: string;
  let changedAt: string;

  beforeAll(async () => {
    dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    archive = batch(1);
  });

  test('status 0: idle, no session; manifest; no package; ack of anything is a mismatch', async () => {
    const status = await dev.status();
    expect(status.status).toBe(200);
    expect(status.body).toEqual({ status: 0, session_id: null, changed_at: expect.any(String) });
    expect(Number.isNaN(Date.parse(status.body.changed_at))).toBe(false);

    const manifest = await dev.manifest();
    expect(manifest.status).toBe(200);
    expect(manifest.body).toEqual({
      files: [{ name: 'device.xml', required: true }],
      high_water_marks: { 'attendances.csv': 0 },
      max_archive_bytes: suite.config.maxArchiveBytes,
      server_time: expect.any(String),
    });
    expect(Math.abs(Date.parse(manifest.body.server_time) - Date.now())).toBeLessThan(5000);

    const pkg = await dev.instructions();
    expect(pkg.status).toBe(409);
    expect(pkg.body.code).toBe('no_instructions_ready');

    const ack = await dev.ack(OTHER_SESSION);
    expect(ack.status).toBe(409);
    expect(ack.body.code).toBe('session_mismatch');
  });

  test('0 → 1: the upload is accepted (202) and the status names its session', async () => {
    const up = await dev.upload(archive);
    expect(up.status).toBe(202);
    expect(up.body).toEqual({ session_id: expect.any(String), status: 1 });
    sessionId = up.body.session_id;

    const status = await dev.status();
    expect(status.body).toMatchObject({ status: 1, session_id: sessionId });
    changedAt = status.body.changed_at;

    const row = await suite.db.selectFrom('sync_sessions').selectAll().where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ device_id: dev.identity.id, channel: 'synchro', archive_bytes: archive.length, processed_at: null, acked_at: null });
    expect(row.archive_sha256).toBe(createHash('sha256').update(archive).digest('hex'));
    expect(Buffer.compare(row.archive!, archive)).toBe(0);
    // The pending row is the import's queue entry: no pg-boss job (worker/import/session-queue.ts).
    expect(row.job_id).toBeNull();
  });

  test('status 1: other bytes → 409 sync_in_progress; the same bytes → 202 with the same session; no package; no ack', async () => {
    const other = await dev.upload(batch(2));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'sync_in_progress', status: 1, session_id: sessionId });

    const again = await dev.upload(archive);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ session_id: sessionId, status: 1 });
    expect(await sessionCount(suite.db, dev.identity.id)).toBe(1);

    expect((await dev.instructions()).body.code).toBe('no_instructions_ready');
    const ack = await dev.ack(sessionId);
    expect(ack.status).toBe(409);
    expect(ack.body.code).toBe('session_mismatch');
    expect((await dev.status()).body.status).toBe(1);
  });

  test('1 → 2: the worker imports the batch and the package is ready', async () => {
    await startTheWorker();
    const ready = await dev.waitForStatus(2);
    expect(ready.body.session_id).toBe(sessionId);
    expect(Date.parse(ready.body.changed_at)).toBeGreaterThanOrEqual(Date.parse(changedAt));
    // When a device reads status 2 the rows are already stored (docs/protocol/v4.md §8).
    expect(await suite.db.selectFrom('attendances').select('record_id').where('device_id', '=', dev.identity.id).execute()).toEqual([{ record_id: 1 }]);
    expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 1 });
  });

  test('status 2: the package downloads any number of times, same bytes, ETag = its SHA-256', async () => {
    const first = await dev.instructions();
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/zip/);
    expect(first.headers.get('x-session-id')).toBe(sessionId);
    const body = first.body as Buffer;
    const sha = createHash('sha256').update(body).digest('hex');
    expect(first.headers.get('etag')).toBe(`"${sha}"`);
    const row = await suite.db.selectFrom('sync_sessions').select(['package_sha256']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(row.package_sha256).toBe(sha);

    const second = await dev.instructions();
    expect(second.status).toBe(200);
    expect(Buffer.compare(second.body as Buffer, body)).toBe(0);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));

    const unchanged = await http(suite.url, 'GET', '/v4/synchro/instructions', { token: dev.token, headers: { 'if-none-match': `"${sha}"` } });
    expect(unchanged.status).toBe(304);

    const pkg = readPackage(body);
    expect(pkg.all('instructions')[0]).toMatchObject({ session_id: sessionId });
    expect(pkg.all('import')).toEqual([{ file: 'attendances.csv', received: '1', accepted: '1', duplicates: '0', rejected: '0', high_water_mark: '1' }]);
  });

  test('status 2: other bytes → 409 sync_in_progress with status 2; the same bytes → 202 with the same session', async () => {
    const other = await dev.upload(batch(3));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'sync_in_progress', status: 2, session_id: sessionId });
    const again = await dev.upload(archive);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ session_id: sessionId, status: 2 });
    expect(await sessionCount(suite.db, dev.identity.id)).toBe(1);
  });

  test('2 → 0: ack of another session → 409; of the current one → 200 {status: 0}; again → 200', async () => {
    for (const wrong of [OTHER_SESSION, 'not-a-uuid']) {
      const res = await dev.ack(wrong);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('session_mismatch');
    }
    expect((await dev.status()).body.status).toBe(2);

    const ack = await dev.ack(sessionId);
    expect(ack.status).toBe(200);
    expect(ack.body).toEqual({ status: 0 });
    const status = await dev.status();
    expect(status.body).toMatchObject({ status: 0 });

    const again = await dev.ack(sessionId);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 0 });

    expect((await dev.instructions()).body.code).toBe('no_instructions_ready');
    const row = await suite.db.selectFrom('sync_sessions').select(['acked_at', 'outcome']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    expect(row.acked_at).toBeInstanceOf(Date);
    expect(row.outcome).toBe('imported');
  });

  test('status 0 again: the same bytes start a new session (their rows are duplicates now)', async () => {
    const { sessionId: next, pkg } = await dev.sync(archive);
    expect(next).not.toBe(sessionId);
    expect(pkg.all('import')[0]).toMatchObject({ received: '1', accepted: '0', duplicates: '1', rejected: '0' });
    expect(await sessionCount(suite.db, dev.identity.id)).toBe(2);
  });

  test('an unknown channel is 404 unknown_channel', async () => {
    const res = await http(suite.url, 'GET', '/v4/nope/status', { token: dev.token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('unknown_channel');
  });
});

describe('a device token only reaches its own device', () => {
  test('another device (same school or another) sees its own idle state, no package, and cannot ack', async () => {
    await startTheWorker();
    const owner = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    const neighbour = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    const stranger = await new TestDevice(suite.url, await aDevice(suite.db, (await aSchool(suite.db)).id)).signIn();

    const ownerBatch = batch(7);
    const up = await owner.upload(ownerBatch);
    expect(up.status).toBe(202);
    await owner.waitForStatus(2);

    for (const other of [neighbour, stranger]) {
      expect((await other.status()).body).toMatchObject({ status: 0, session_id: null });
      expect((await other.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 0 });
      expect((await other.instructions()).body.code).toBe('no_instructions_ready');
      const ack = await other.ack(up.body.session_id);
      expect(ack.status).toBe(409);
      expect(ack.body.code).toBe('session_mismatch');
    }
    // The owner's state did not move.
    expect((await owner.status()).body).toMatchObject({ status: 2, session_id: up.body.session_id });

    // The neighbour sending the owner's very bytes gets its own session, not the owner's.
    const copy = await neighbour.upload(ownerBatch);
    expect(copy.status).toBe(202);
    expect(copy.body.session_id).not.toBe(up.body.session_id);
    await neighbour.waitForStatus(2);

    // Each device's channels are independent, too.
    expect((await new TestDevice(suite.url, owner.identity, 'sondes').signIn().then((d) => d.status())).body).toMatchObject({ status: 0 });
    expect((await owner.ack(up.body.session_id)).status).toBe(200);
  });
});
