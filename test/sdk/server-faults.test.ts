// The SDK when the server itself is the fault: busy (503 with Retry-After), restarted between the
// upload and the status, and a token that expired while the device was offline. Rows counted in
// the database each time: none lost, none stored twice.
import { afterAll, expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, checkIns, controlledFetch, enrolledClient, sessionsOf, storedFor } from './helpers.js';

// No worker to begin with (the busy test needs a backlog); one is started by the first test.
const suite = useSuite({ env: { IMPORT_MAX_PENDING: '1', IMPORT_RETRY_AFTER_SECONDS: '1', DEVICE_TOKEN_TTL_SECONDS: '30' } });
const logger = createLogger('test', 'silent');
let worker: RunningWorker | null = null;
const apis: RunningApi[] = [];
afterAll(async () => {
  await worker?.stop();
  for (const api of apis) await api.stop();
});

test('503 server_busy with Retry-After: the client waits that long and sends the same bytes, stored once', async () => {
  const { school, users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  // Another device's batch fills the backlog (IMPORT_MAX_PENDING=1, and no worker yet).
  const other = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  expect((await other.upload(batchZip({ 'device.xml': deviceXml() }))).status).toBe(202);

  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch, waitScale: 1 }, enrolment);
  await checkIns(client, users, 8);
  const times: number[] = [];
  net.setFault(async (call, forward) => {
    if (!call.path.endsWith('/synchro/datas')) return undefined;
    times.push(Date.now());
    const res = await forward();
    if (res.status === 503 && !worker) {
      expect(res.headers.get('retry-after')).toBe('1');
      worker = await startWorker(suite.config, suite.databaseUrl, logger); // the backlog drains
    }
    return res;
  });
  const report = await client.sync();
  expect(report.ok).toBe(true);
  expect(net.statuses('/synchro/datas')).toEqual([503, 202]);
  expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
  expect(await sessionsOf(suite.db, device.id)).toBe(1);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 8, distinctAttendances: 8, marks: 0, distinctMarks: 0 });
  expect(client.state).toMatchObject({ waiting: 0, lastError: null });
}, 60_000);

test('the server restarted between the upload and the status: the client waits it out and finishes the same session', async () => {
  expect(worker).not.toBeNull();
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch, waitScale: 1 }, enrolment);
  await checkIns(client, users, 10);
  const port = Number(new URL(suite.url).port);
  let restarted: Promise<void> | null = null;
  net.setFault(async (call, forward) => {
    if (!call.path.endsWith('/synchro/datas') || restarted) return undefined;
    const res = await forward();
    const body = await res.arrayBuffer();
    // The api goes down as the 202 leaves, and comes back on the same port 700 ms later.
    await suite.api.stop();
    restarted = new Promise<void>((resolve) => setTimeout(() => {
      void startApi({ ...suite.config, port }, suite.databaseUrl, logger).then((api) => { apis.push(api); resolve(); });
    }, 700));
    return new Response(body, { status: res.status, headers: res.headers });
  });
  const report = await client.sync();
  await restarted;
  expect(report.ok).toBe(true);
  expect(net.statuses('/synchro/status')).toContain(0); // refused connections while it was down
  expect(await sessionsOf(suite.db, device.id)).toBe(1);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 10, distinctAttendances: 10, marks: 0, distinctMarks: 0 });
  expect(client.state.waiting).toBe(0);
}, 60_000);

test('a token that expired while offline: the client signs in again and sends what it queued, once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const net = controlledFetch();
  // The device clock stands still, so the client believes its token is still good: the server says otherwise.
  const deviceTime = Date.now();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch, now: () => new Date(deviceTime) }, enrolment);
  await checkIns(client, users, 3);
  expect((await client.sync()).ok).toBe(true);

  net.setOffline(true);
  await checkIns(client, users, 4, 'checkout');
  const offline = await client.sync();
  expect(offline).toMatchObject({ ok: false, error: { code: 'network_error', class: 'retry-later' } });
  expect(client.state).toMatchObject({ online: false, waiting: 4 });
  await new Promise((r) => setTimeout(r, 31_000)); // DEVICE_TOKEN_TTL_SECONDS=30

  net.setOffline(false);
  const signIns = net.statuses('/v4/auth/token').length;
  expect((await client.sync()).ok).toBe(true);
  const after = net.log.slice(net.log.findLastIndex((c) => c.status === 0) + 1);
  // The channel is known idle since the last ack: the first call is the manifest, refused with the old token.
  expect(after[0]).toMatchObject({ path: '/v4/synchro/manifest', status: 401 });
  expect(net.statuses('/v4/auth/token')).toHaveLength(signIns + 1);
  expect(client.state).toMatchObject({ online: true, waiting: 0, lastError: null });
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 7, distinctAttendances: 7, marks: 0, distinctMarks: 0 });
}, 90_000);

test('a batch the server is slow to import: sync() ends still_processing, and the next one finishes the same session', async () => {
  await worker?.stop();
  worker = null;
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const client = await enrolledClient({ storage: memoryStorage(), maxProcessingWaitSeconds: 1, statusWaitSeconds: 1 }, enrolment);
  await checkIns(client, users, 6);
  const slow = await client.sync();
  expect(slow).toMatchObject({ ok: false, error: { code: 'still_processing', class: 'retry-later', channel: 'synchro' } });
  expect(client.state.waiting).toBe(6);

  worker = await startWorker(suite.config, suite.databaseUrl, logger);
  expect((await client.sync()).ok).toBe(true);
  expect(client.state.waiting).toBe(0);
  expect(await sessionsOf(suite.db, device.id)).toBe(1);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 6, distinctAttendances: 6, marks: 0, distinctMarks: 0 });
}, 60_000);
