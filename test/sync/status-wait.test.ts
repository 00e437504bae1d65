// `GET /v4/:channel/status?wait=N` (docs/PROTOCOL-EXTENSIONS.md): while the batch is processed
// the answer waits for the change instead of the device polling. It answers at once when there
// is nothing to wait for, wakes when the worker flips 1 → 2 (or staff reset the session), and
// after N seconds answers the status as it is. No worker runs until a test starts it, so status 1
// holds as long as a test needs it.
import nodeHttp from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs, someUsers } from '../support/fixtures.js';
import { http, type HttpResult } from '../support/http.js';
import { eventually } from '../support/processes.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let worker: RunningWorker | null = null;
async function ensureWorker(): Promise<void> {
  worker ??= await startWorker(suite.config, suite.databaseUrl, createLogger('test-worker', 'silent'));
}
let schoolId: number;
let userId: number;
let nextRecord = 1;

beforeAll(async () => {
  schoolId = (await aSchool(suite.db)).id;
  userId = (await someUsers(suite.db, schoolId, 1))[0].id;
});
afterAll(async () => {
  await worker?.stop();
});

function batch(): Buffer {
  return batchZip({
    'device.xml': deviceXml(),
    'attendances.csv': attendancesCsv([{ record_id: nextRecord++, user_id: userId, type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' }]),
  });
}

async function aDeviceInStatus1(): Promise<{ dev: TestDevice; sessionId: string }> {
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
  const up = await dev.upload(batch());
  expect(up.status).toBe(202);
  return { dev, sessionId: up.body.session_id };
}

/** The status call with `?wait=`, and how long its answer took. */
async function waitingStatus(dev: TestDevice, wait: string): Promise<{ res: HttpResult; ms: number }> {
  const t = performance.now();
  const res = await http(suite.url, 'GET', `/v4/synchro/status?wait=${wait}`, { token: dev.token });
  return { res, ms: performance.now() - t };
}

describe('status?wait=N', () => {
  test('status 0 is answered at once, as without wait', async () => {
    const dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    const { res, ms } = await waitingStatus(dev, '20');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 0, session_id: null, changed_at: expect.any(String) });
    expect(ms).toBeLessThan(5_000);
  });

  test('status 1: after N seconds without a change, the status as it is (still 1)', async () => {
    const { dev, sessionId } = await aDeviceInStatus1();
    const { res, ms } = await waitingStatus(dev, '1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 1, session_id: sessionId, changed_at: expect.any(String) });
    expect(ms).toBeGreaterThanOrEqual(950);
  });

  test('a device that hangs up while waiting stops its wait at once, not after N seconds', async () => {
    const { dev } = await aDeviceInStatus1();
    const waiting = suite.api.ctx.statusWaits.size;
    const req = nodeHttp.get(`${suite.url}/v4/synchro/status?wait=30`, { headers: { authorization: `Bearer ${dev.token}` } });
    req.on('error', () => undefined);
    await eventually(() => suite.api.ctx.statusWaits.size === waiting + 1, 5_000, 'the status call waiting');
    const hungUp = performance.now();
    req.destroy();
    await eventually(() => suite.api.ctx.statusWaits.size === waiting, 5_000, 'the wait ended');
    expect(performance.now() - hungUp).toBeLessThan(5_000);
  });

  test('a wait that is not a whole number of seconds ≥ 0 is refused (422 validation_failed, as every bad query)', async () => {
    const dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
    for (const bad of ['abc', '-1', '2.5']) {
      const { res } = await waitingStatus(dev, bad);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  test('staff resetting the session (1 → 0) wakes the waiting device, even with a wait far above the 30 s bound', async () => {
    const { dev } = await aDeviceInStatus1();
    const bo = await aStaff(suite.db, 'backoffice');
    const waiting = waitingStatus(dev, '3600');
    let answered = false;
    void waiting.then(() => { answered = true; });
    await new Promise((r) => setTimeout(r, 500));
    expect(answered).toBe(false);
    const reset = await http(suite.url, 'POST', `/api/devices/${dev.identity.id}/flags`, { token: await loginAs(suite.url, bo), body: { name: 'RESET_SESSION' } });
    expect(reset.status).toBeLessThan(300);
    const { res, ms } = await waiting;
    expect(res.body).toMatchObject({ status: 0 });
    expect(ms).toBeLessThan(25_000);
  });

  // Last: it starts the worker, which then imports whatever is waiting.
  test('status 1: the answer leaves when the worker flips to 2, and then the rows are stored', async () => {
    const { dev, sessionId } = await aDeviceInStatus1();
    const waiting = waitingStatus(dev, '25');
    let answered = false;
    void waiting.then(() => { answered = true; });
    await new Promise((r) => setTimeout(r, 500));
    expect(answered).toBe(false);

    await ensureWorker();
    const { res, ms } = await waiting;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 2, session_id: sessionId, changed_at: expect.any(String) });
    expect(ms).toBeLessThan(20_000);
    // The answer is what a plain status call says now (docs/protocol/v4.md §8: the figures are in).
    expect((await dev.status()).body).toEqual(res.body);
    const rows = await suite.db.selectFrom('attendances').select('record_id').where('device_id', '=', dev.identity.id).execute();
    expect(rows).toHaveLength(1);

    // Already 2: at once.
    const again = await waitingStatus(dev, '25');
    expect(again.res.body).toMatchObject({ status: 2, session_id: sessionId });
    expect(again.ms).toBeLessThan(5_000);
  });

  test('the simulated device waits instead of polling and completes its sync', async () => {
    await ensureWorker(); // when run on its own, no test before it has started one
    const dev = new TestDevice(suite.url, await aDevice(suite.db, schoolId), 'synchro', { statusWaitSeconds: 25, pollMs: 60_000 });
    await dev.signIn();
    // A 60 s poll interval would make this sync take a minute if the device were polling.
    const t = performance.now();
    const outcome = await dev.syncReliably(() => batch());
    expect(outcome.pkg.all('import')[0]).toMatchObject({ accepted: '1' });
    expect(performance.now() - t).toBeLessThan(20_000);
  });
});
