// docs/protocol/v4.md §3.3: every way `POST /v4/synchro/datas` refuses an upload, with its status and
// code, and after each refusal nothing changed: status still 0, no session row, no job.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';
import { expectNothingStored, fixtureArchive, importJobCount, sessionCount, uploadForm, uploadRaw } from './helpers.js';

type Handle = ReturnType<typeof connectTestDatabase>;
type Case = [file: string, code: string, extra: Record<string, unknown> | null];

let stack: TestStack;
let db: Handle;
let schoolId: number;

beforeAll(async () => {
  stack = await startStack();
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

async function freshDevice(on: { stack: TestStack; db: Handle; schoolId: number } = { stack, db, schoolId }): Promise<TestDevice> {
  return new TestDevice(on.stack.url, await aDevice(on.db.db, on.schoolId)).signIn();
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

describe('400: the archive structure is refused', () => {
  const cases: Case[] = [
    ['truncated.zip', 'archive_corrupt', null],
    ['overlapping.zip', 'archive_corrupt', null],
    ['encrypted.zip', 'archive_encrypted', { entry: 'attendances.csv' }],
    ['encrypted-zipcrypto.zip', 'archive_encrypted', null],
    ['too-many-entries.zip', 'archive_too_many_entries', null],
    ['bomb.zip', 'archive_suspicious_ratio', { entry: 'attendances.csv' }],
    ['traversal.zip', 'entry_name_invalid', { entry: '../evil.csv' }],
    ['absolute.zip', 'entry_name_invalid', { entry: '/etc/cron.d/evil' }],
    ['symlink.zip', 'entry_name_invalid', { entry: 'attendances.csv' }],
    ['directory-entry.zip', 'entry_name_invalid', { entry: 'photos/' }],
    ['unknown-entry.zip', 'entry_name_invalid', { entry: 'notes.txt' }],
    ['duplicate.zip', 'entry_duplicate', { entry: 'attendances.csv' }],
    ['missing-device-xml.zip', 'required_file_missing', { files: ['device.xml'] }],
  ];

  test.each(cases)('%s → 400 %s, nothing stored', async (file, code, extra) => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await dev.upload(fixtureArchive(file));
    expectProblem(res, 400, code);
    if (extra) expect(res.body).toMatchObject(extra);
    await expectNothingStored(dev, db.db, jobs);
  });

  test('settings.xml asked for by REPORT_SETTINGS and not sent → required_file_missing naming it', async () => {
    const dev = await freshDevice();
    await db.db.insertInto('device_flags').values({ school_id: schoolId, device_id: dev.identity.id, name: 'REPORT_SETTINGS' }).execute();
    const manifest = await dev.manifest();
    expect(manifest.body.files).toEqual([{ name: 'device.xml', required: true }, { name: 'settings.xml', required: true }]);
    const jobs = await importJobCount(db.db);
    const res = await dev.upload(batchZip({ 'device.xml': deviceXml() }));
    expectProblem(res, 400, 'required_file_missing');
    expect(res.body.files).toEqual(['settings.xml']);
    expect(res.body.detail).toContain('settings.xml');
    await expectNothingStored(dev, db.db, jobs);
  });
});

describe('401 for a device disabled after it signed in, whatever it uploads', () => {
  test.each([['a valid batch', () => batchZip({ 'device.xml': deviceXml() })], ['a corrupt archive', () => fixtureArchive('truncated.zip')]])('%s: invalid_token, nothing stored', async (_, archive) => {
    const dev = await freshDevice();
    await db.db.updateTable('devices').set({ disabled_at: new Date() }).where('id', '=', dev.identity.id).execute();
    const jobs = await importJobCount(db.db);
    const res = await dev.upload(archive());
    expectProblem(res, 401, 'invalid_token');
    expect(await sessionCount(db.db, dev.identity.id)).toBe(0);
    expect(await importJobCount(db.db)).toBe(jobs);
  });
});

describe('400 archive_missing', () => {
  test('a multipart body without any file', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await uploadForm(dev, [{ field: 'note', data: 'hello' }]);
    expectProblem(res, 400, 'archive_missing');
    await expectNothingStored(dev, db.db, jobs);
  });

  test('the zip under another field name', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await dev.upload(fixtureArchive('valid-small.zip'), 'file');
    expectProblem(res, 400, 'archive_missing');
    await expectNothingStored(dev, db.db, jobs);
  });
});

describe('415 unsupported_media_type', () => {
  test('a JSON body', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await uploadRaw(dev, JSON.stringify({ archive: 'UEsDBA==' }), 'application/json');
    expectProblem(res, 415, 'unsupported_media_type');
    await expectNothingStored(dev, db.db, jobs);
  });

  test('a raw zip body (not multipart)', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await uploadRaw(dev, fixtureArchive('valid-small.zip'), 'application/zip');
    expectProblem(res, 415, 'unsupported_media_type');
    await expectNothingStored(dev, db.db, jobs);
  });

  test('a text file in the multipart, whatever its name says', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    const res = await uploadForm(dev, [{ field: 'archive', data: fixtureArchive('not-a-zip.zip'), filename: 'batch.zip', type: 'application/zip' }]);
    expectProblem(res, 415, 'unsupported_media_type');
    await expectNothingStored(dev, db.db, jobs);
  });
});

describe('with small limits (MAX_ARCHIVE_BYTES=2048, ARCHIVE_MAX_UNCOMPRESSED_BYTES=8192)', () => {
  let small: TestStack;
  let smallDb: Handle;
  let smallSchool: number;
  beforeAll(async () => {
    small = await startStack({ env: { MAX_ARCHIVE_BYTES: '2048', ARCHIVE_MAX_UNCOMPRESSED_BYTES: '8192' } });
    smallDb = connectTestDatabase(small.databaseUrl);
    smallSchool = (await aSchool(smallDb.db)).id;
  });
  afterAll(async () => {
    await smallDb?.close();
    await small?.stop();
  });
  const device = () => freshDevice({ stack: small, db: smallDb, schoolId: smallSchool });

  test('the manifest announces the limit', async () => {
    const dev = await device();
    expect((await dev.manifest()).body.max_archive_bytes).toBe(2048);
  });

  test('an archive just over the limit → 413 archive_too_large (read and counted)', async () => {
    const dev = await device();
    // Random text does not compress: the zip is larger than 2048 bytes.
    const archive = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': randomBytes(3000).toString('base64') });
    expect(archive.length).toBeGreaterThan(2048);
    expect(archive.length).toBeLessThan(2048 + 64 * 1024);
    const jobs = await importJobCount(smallDb.db);
    const res = await dev.upload(archive);
    expectProblem(res, 413, 'archive_too_large');
    expect(res.body.max_archive_bytes).toBe(2048);
    await expectNothingStored(dev, smallDb.db, jobs);
  });

  test('a body far over the limit → 413 from its declared length, before it is read', async () => {
    const dev = await device();
    const jobs = await importJobCount(smallDb.db);
    const res = await dev.upload(randomBytes(512 * 1024));
    expectProblem(res, 413, 'archive_too_large');
    await expectNothingStored(dev, smallDb.db, jobs);
  });

  test('entries declaring more than the uncompressed cap → 400 archive_too_large_uncompressed', async () => {
    const dev = await device();
    // 20 KB of one repeated line deflates to far less than 2048 bytes but declares 20 KB.
    const archive = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': 'record_id,user_id,type,occurred_at\n'.repeat(600) });
    expect(archive.length).toBeLessThan(2048);
    const jobs = await importJobCount(smallDb.db);
    const res = await dev.upload(archive);
    expectProblem(res, 400, 'archive_too_large_uncompressed');
    await expectNothingStored(dev, smallDb.db, jobs);
  });
});

describe('503 server_busy (IMPORT_MAX_PENDING=2, no worker draining)', () => {
  let busy: TestStack;
  let busyDb: Handle;
  let busySchool: number;
  beforeAll(async () => {
    busy = await startStack({ env: { IMPORT_MAX_PENDING: '2', IMPORT_RETRY_AFTER_SECONDS: '17' } });
    busyDb = connectTestDatabase(busy.databaseUrl);
    busySchool = (await aSchool(busyDb.db)).id;
  });
  afterAll(async () => {
    await busyDb?.close();
    await busy?.stop();
  });

  test('two batches pending: the third device is told to come back later, and nothing was stored', async () => {
    const devices = await Promise.all([1, 2, 3].map(() => freshDevice({ stack: busy, db: busyDb, schoolId: busySchool })));
    const archives = [0, 1, 2].map((n) => batchZip({ 'device.xml': deviceXml({ firmware: `busy-${n}` }) }));
    const archive = (n: number) => archives[n];
    expect((await devices[0].upload(archive(0))).status).toBe(202);
    expect((await devices[1].upload(archive(1))).status).toBe(202);

    const jobs = await importJobCount(busyDb.db);
    const res = await devices[2].upload(archive(2));
    expectProblem(res, 503, 'server_busy');
    expect(res.headers.get('retry-after')).toBe('17');
    await expectNothingStored(devices[2], busyDb.db, jobs);

    // The same bytes retried by a device already holding a session are still answered (not a new import).
    const retry = await devices[0].upload(archive(0));
    expect(retry.status).toBe(202);
    expect(await sessionCount(busyDb.db, devices[0].identity.id)).toBe(1);
  });
});

describe('401 on every call without a valid device token', () => {
  test('status, manifest, datas, instructions, ack', async () => {
    const dev = await freshDevice();
    const jobs = await importJobCount(db.db);
    dev.token = 'not-a-token';
    for (const res of [await dev.status(), await dev.manifest(), await dev.upload(fixtureArchive('valid-small.zip')), await dev.instructions(), await dev.ack('00000000-0000-4000-8000-000000000000')]) {
      expectProblem(res, 401, 'invalid_token');
    }
    await dev.signIn();
    await expectNothingStored(dev, db.db, jobs);
  });
});
