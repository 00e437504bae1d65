// docs/protocol/v4.md §3 on sondes, messagerie and photos: the same calls and refusal codes as synchro,
// each channel with its own status flag. No worker runs here: an accepted batch stays in status 1.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { expectNothingStored, fixtureArchive, importJobCount, uploadForm, uploadRaw } from '../sync/helpers.js';
import { jpeg, messagesCsv, minutesAgo, readingsCsv } from './helpers.js';

type Handle = ReturnType<typeof connectTestDatabase>;
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

const CHANNELS = ['sondes', 'messagerie', 'photos'] as const;
type Channel = (typeof CHANNELS)[number];

/** A valid batch of the channel's own files. */
function batchFor(channel: Channel, n = 1, opts: { withoutDeviceXml?: boolean } = {}): Buffer {
  const files: Record<string, string | Buffer> = opts.withoutDeviceXml ? {} : { 'device.xml': deviceXml({ firmware: `v${n}` }) };
  if (channel === 'sondes') files['readings.csv'] = readingsCsv([{ record_id: n, measured_at: minutesAgo(1), temperature: '36.6' }]);
  if (channel === 'messagerie') files['messages.csv'] = messagesCsv([{ record_id: n, created_at: minutesAgo(1), kind: 'info', body: 'hello' }]);
  if (channel === 'photos') files[`photos/p${n}.jpg`] = jpeg(10, 10, { seed: n });
  return batchZip(files);
}

async function device(channel: string, on: { stack: TestStack; db: Handle; schoolId: number } = { stack, db, schoolId }): Promise<TestDevice> {
  return new TestDevice(on.stack.url, await aDevice(on.db.db, on.schoolId), channel).signIn();
}

function expectProblem(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
}

describe.each(CHANNELS)('%s', (channel) => {
  test('status and manifest of a fresh device; its own files accepted; the status machine refuses what §3 refuses', async () => {
    const dev = await device(channel);
    expect((await dev.status()).body).toMatchObject({ status: 0, session_id: null });
    const manifest = (await dev.manifest()).body;
    expect(manifest.files).toEqual([{ name: 'device.xml', required: true }]);
    expect(manifest.high_water_marks).toEqual({ sondes: { 'readings.csv': 0 }, messagerie: { 'messages.csv': 0 }, photos: {} }[channel]);
    expectProblem(await dev.instructions(), 409, 'no_instructions_ready');

    const batch = batchFor(channel);
    const up = await dev.upload(batch);
    expect(up.status).toBe(202);
    expect((await dev.status()).body).toMatchObject({ status: 1, session_id: up.body.session_id });
    // The same bytes again: a safe retry, the same session.
    expect((await dev.upload(batch)).body).toEqual({ session_id: up.body.session_id, status: 1 });
    const busy = await dev.upload(batchFor(channel, 2));
    expectProblem(busy, 409, 'sync_in_progress');
    expect(busy.body).toMatchObject({ status: 1, session_id: up.body.session_id });
    expectProblem(await dev.instructions(), 409, 'no_instructions_ready');
    expectProblem(await dev.ack(up.body.session_id), 409, 'session_mismatch');
    expectProblem(await dev.ack('00000000-0000-4000-8000-000000000000'), 409, 'session_mismatch');
  });

  const refusals: Array<[string, () => Buffer, string]> = [
    ['no device.xml', () => batchFor(channel, 1, { withoutDeviceXml: true }), 'required_file_missing'],
    ['a file of another channel', () => batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([]) }), 'entry_name_invalid'],
    ['settings.xml (synchro only)', () => batchZip({ 'device.xml': deviceXml(), 'settings.xml': '<settings/>' }), 'entry_name_invalid'],
    ['truncated.zip', () => fixtureArchive('truncated.zip'), 'archive_corrupt'],
    ['encrypted.zip', () => fixtureArchive('encrypted.zip'), 'archive_encrypted'],
    ['too-many-entries.zip', () => fixtureArchive('too-many-entries.zip'), 'archive_too_many_entries'],
    ['bomb.zip', () => fixtureArchive('bomb.zip'), 'archive_suspicious_ratio'],
    ['traversal.zip', () => fixtureArchive('traversal.zip'), 'entry_name_invalid'],
    ['duplicate.zip', () => fixtureArchive('duplicate.zip'), 'entry_duplicate'],
  ];
  test.each(refusals)('%s → 400, nothing stored', async (_what, archive, code) => {
    const dev = await device(channel);
    const jobs = await importJobCount(db.db);
    expectProblem(await dev.upload(archive()), 400, code);
    await expectNothingStored(dev, db.db, jobs);
  });

  test('archive_missing, unsupported_media_type and invalid_token, nothing stored', async () => {
    const dev = await device(channel);
    const jobs = await importJobCount(db.db);
    expectProblem(await uploadForm(dev, [{ field: 'note', data: 'hello' }]), 400, 'archive_missing');
    expectProblem(await uploadRaw(dev, batchFor(channel), 'application/zip'), 415, 'unsupported_media_type');
    expectProblem(await uploadForm(dev, [{ field: 'archive', data: 'plain text', filename: 'batch.zip' }]), 415, 'unsupported_media_type');
    const stranger = new TestDevice(stack.url, dev.identity, channel);
    stranger.token = 'forged';
    for (const res of [await stranger.status(), await stranger.manifest(), await stranger.upload(batchFor(channel)), await stranger.instructions()]) {
      expectProblem(res, 401, 'invalid_token');
    }
    await expectNothingStored(dev, db.db, jobs);
  });
});

test('an unknown channel is 404 unknown_channel', async () => {
  const dev = await device('telemetry');
  expectProblem(await dev.status(), 404, 'unknown_channel');
});

test('each channel has its own status: a device in status 1 on synchro uploads on sondes at the same time', async () => {
  const identity = await aDevice(db.db, schoolId);
  const [synchro, sondes, messagerie] = await Promise.all(['synchro', 'sondes', 'messagerie'].map((c) => new TestDevice(stack.url, identity, c).signIn()));
  const onSynchro = await synchro.upload(batchZip({ 'device.xml': deviceXml() }));
  expect(onSynchro.status).toBe(202);
  const onSondes = await sondes.upload(batchFor('sondes'));
  expect(onSondes.status).toBe(202);
  expect(onSondes.body.session_id).not.toBe(onSynchro.body.session_id);
  expect((await synchro.status()).body).toMatchObject({ status: 1, session_id: onSynchro.body.session_id });
  expect((await sondes.status()).body).toMatchObject({ status: 1, session_id: onSondes.body.session_id });
  expect((await messagerie.status()).body).toMatchObject({ status: 0, session_id: null });
  // A session of one channel means nothing on another.
  expectProblem(await messagerie.ack(onSynchro.body.session_id), 409, 'session_mismatch');
});

describe('limits (MAX_ARCHIVE_BYTES=4096, IMPORT_MAX_PENDING=1)', () => {
  let small: TestStack;
  let smallDb: Handle;
  let smallSchool: number;
  beforeAll(async () => {
    small = await startStack({ env: { MAX_ARCHIVE_BYTES: '4096', IMPORT_MAX_PENDING: '1', IMPORT_RETRY_AFTER_SECONDS: '7' } });
    smallDb = connectTestDatabase(small.databaseUrl);
    smallSchool = (await aSchool(smallDb.db)).id;
  });
  afterAll(async () => {
    await smallDb?.close();
    await small?.stop();
  });

  test('413 archive_too_large on photos; 503 server_busy with Retry-After once the backlog is full', async () => {
    const on = { stack: small, db: smallDb, schoolId: smallSchool };
    const camera = await device('photos', on);
    const big = batchZip({ 'device.xml': deviceXml(), 'photos/big.jpg': Buffer.concat([jpeg(10, 10), randomBytes(6000)]) });
    expectProblem(await camera.upload(big), 413, 'archive_too_large');
    const probe = await device('sondes', on);
    expect((await probe.upload(batchFor('sondes'))).status).toBe(202);
    const jobs = await importJobCount(smallDb.db);
    const inbox = await device('messagerie', on);
    const res = await inbox.upload(batchFor('messagerie'));
    expectProblem(res, 503, 'server_busy');
    expect(res.headers.get('retry-after')).toBe('7');
    await expectNothingStored(inbox, smallDb.db, jobs);
    expect((await http(small.url, 'GET', '/healthz')).status).toBe(200);
  });
});
