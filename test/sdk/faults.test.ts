// The SDK's promise under the faults an app meets (issue 30 "Done when"): whatever happens, every
// row queued is stored once — none lost, none stored twice — counted in the database.
import http from 'node:http';
import { afterAll, expect, test } from '@jest/globals';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { indexedDbStorage } from '../../sdk/src/adapters/indexeddb.js';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { SyncClient } from '../../sdk/src/index.js';
import { useSuite } from '../support/suite.js';
import { startStack } from '../support/services.js';
import { aSchoolWithDevice, checkIns, clock, controlledFetch, enrolledClient, sessionsOf, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });
const extraApis: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  for (const api of extraApis) await api.stop();
});
const idb = () => ({ indexedDB: new IDBFactory(), IDBKeyRange });

/** Sends the first half of a request's body, then drops the connection: a process killed mid-upload. */
async function halfUpload(url: string, init: RequestInit): Promise<void> {
  const req = new Request(url, init);
  const body = new Uint8Array(await req.arrayBuffer());
  await new Promise<void>((resolve) => {
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    req.headers.forEach((value, name) => { headers[name] = value; });
    const out = http.request(url, { method: 'POST', headers });
    out.on('error', () => resolve());
    out.write(body.subarray(0, body.length >> 1), () => setTimeout(() => { out.destroy(); resolve(); }, 50));
  });
}

test('killed mid-upload: reopened on the same storage, the frozen bytes go again and every row is stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const storage = indexedDbStorage('killed', idb());
  const net = controlledFetch();
  const first = await enrolledClient({ storage, fetch: net.fetch }, enrolment);
  await checkIns(first, users, 40);
  await first.mark({ userId: users[0].id, date: clock.today, mark: 'late', period: 'P2' });
  let killed = false;
  net.setFault(async (call) => {
    if (killed) throw new TypeError('the process is gone');
    if (call.path.endsWith('/synchro/datas')) {
      killed = true;
      await halfUpload(call.url, call.init!);
      throw new TypeError('the process is gone');
    }
    return undefined;
  });
  // From here on the process is dead: nothing it tries reaches the server.
  const report = await first.sync();
  expect(report.ok).toBe(false);
  const frozen = await storage.batch('synchro');
  expect(frozen).toMatchObject({ stage: 'frozen', recordIds: Array.from({ length: 40 }, (_, i) => i + 1) });
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 0 });

  // A new process: the same storage, a working network.
  const sent: Uint8Array[] = [];
  const reopened = await SyncClient.open({
    storage, statusWaitSeconds: 5,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      if (req.url.endsWith('/synchro/datas')) {
        const form = await req.clone().formData();
        sent.push(new Uint8Array(await (form.get('archive') as Blob).arrayBuffer()));
      }
      return fetch(req);
    },
  });
  expect(reopened.state.waiting).toBe(41);
  expect((await reopened.sync()).ok).toBe(true);
  expect(Buffer.from(sent[0]).equals(Buffer.from(frozen!.bytes))).toBe(true);
  expect(reopened.state.waiting).toBe(0);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 40, distinctAttendances: 40, marks: 1, distinctMarks: 1 });
});

test('the 202 lost on the way back: the same bytes again get the same session, stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch }, enrolment);
  await checkIns(client, users, 12);
  let lost = 0;
  net.setFault(async (call, forward) => {
    if (call.path.endsWith('/datas') && lost === 0) {
      lost++;
      const res = await forward();
      expect(res.status).toBe(202);
      throw new TypeError('connection reset');
    }
    return undefined;
  });
  expect((await client.sync()).ok).toBe(true);
  expect(net.statuses('/synchro/datas')).toEqual([0, 202]);
  expect(await sessionsOf(suite.db, device.id)).toBe(1);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 12, distinctAttendances: 12, marks: 0, distinctMarks: 0 });
  expect(client.state.waiting).toBe(0);
});

for (const lock of ['web-locks', 'lease'] as const) {
  test(`two tabs on one storage (${lock}): both queue, both sync at once, every row stored once`, async () => {
    const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
    const factory = idb();
    const tabA = await enrolledClient({ storage: indexedDbStorage('tabs', factory), lock }, enrolment);
    const tabB = await SyncClient.open({ storage: indexedDbStorage('tabs', factory), lock, waitScale: 0.05, statusWaitSeconds: 5 });
    expect(tabB.enrolled).toBe(true);
    for (let round = 0; round < 3; round++) {
      await Promise.all([checkIns(tabA, users, 7), checkIns(tabB, users, 5, 'checkout')]);
      const reports = await Promise.all([tabA.sync(), tabB.sync(), tabA.sync()]);
      expect(reports.some((r) => r.ok)).toBe(true);
      for (const r of reports.filter((x) => !x.ok)) expect(r.error?.code).toBe('sync_elsewhere');
    }
    await tabB.sync();
    expect(tabA.state.waiting + tabB.state.waiting).toBe(0);
    expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 36, distinctAttendances: 36, marks: 0, distinctMarks: 0 });
  });
}

test('many devices in one process (the simulator) sync side by side: locks are per device', async () => {
  const devices = await Promise.all([1, 2, 3].map(() => aSchoolWithDevice(suite.db, suite.url, 2)));
  const clients = await Promise.all(devices.map((d) => enrolledClient({ storage: memoryStorage() }, d.enrolment)));
  await Promise.all(clients.map((c, i) => checkIns(c, devices[i].users, 4)));
  const reports = await Promise.all(clients.map((c) => c.sync()));
  expect(reports.map((r) => r.ok)).toEqual([true, true, true]);
  for (const d of devices) expect(await storedFor(suite.db, d.device.id)).toMatchObject({ attendances: 4, distinctAttendances: 4 });
});

test('device clock 10 minutes ahead: rows are stamped with the server\'s time, accepted, not clock-suspect', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const skew = 10 * 60_000;
  const client = await enrolledClient({ storage: memoryStorage(), now: () => new Date(Date.now() + skew) }, enrolment);
  expect(client.state.clockSkewMs).toBeGreaterThan(skew - 5000);
  expect(client.state.clockSkewMs).toBeLessThan(skew + 5000);
  await client.checkIn({ userId: users[0].id, type: 'checkin' });
  await client.mark({ userId: users[1].id, date: clock.today, mark: 'present' });
  expect((await client.sync()).ok).toBe(true);
  expect(client.state.refused).toEqual([]);
  const rows = await suite.db.selectFrom('attendances').select(['occurred_at', 'clock_suspect']).where('device_id', '=', device.id).execute();
  expect(rows).toHaveLength(1);
  expect(Math.abs(rows[0].occurred_at.getTime() - Date.now())).toBeLessThan(30_000);
  expect(rows[0].clock_suspect).toBe(false);
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 1, marks: 1 });
});

test('storage wiped: the same enrolment on a fresh storage allocates above the server\'s marks, never record_conflict', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const net = controlledFetch();
  const before = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch }, enrolment);
  await checkIns(before, users, 6);
  expect((await before.sync()).ok).toBe(true);
  // A last batch whose package is never acknowledged: the wipe happens while the channel is in status 2.
  await checkIns(before, users, 4, 'checkout');
  net.setFault((call) => {
    if (call.path.endsWith('/synchro/ack')) throw new TypeError('wiped before the ack');
    return undefined;
  });
  expect((await before.sync()).ok).toBe(false);
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 10 });

  // Safari deleted the site's data: a new storage, the same QR code.
  const after = await enrolledClient({ storage: memoryStorage() }, enrolment);
  await checkIns(after, users, 5);
  await after.mark({ userId: users[0].id, date: clock.today, mark: 'absent' });
  const afterReport = await after.sync();
  expect(afterReport.ok).toBe(true);
  expect(afterReport.channels.synchro?.sessions).toHaveLength(2); // the old batch's package, then its own
  expect(after.state.refused).toEqual([]);
  expect(after.state.waiting).toBe(0);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 15, distinctAttendances: 15, marks: 1, distinctMarks: 1 });
  const ids = await suite.db.selectFrom('attendances').select('record_id').where('device_id', '=', device.id).orderBy('record_id').execute();
  expect(ids.map((r) => Number(r.record_id))).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
});

test('a batch too large (413 from an api with a lower limit): split until it fits, every row stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  // A second api on the same database whose MAX_ARCHIVE_BYTES is 4 KiB: uploads go there, manifests here.
  // startStack: configured as the suite's own api is (behind the test pooler, LISTEN goes direct).
  const small = await startStack({ databaseUrl: suite.databaseUrl, env: { MAX_ARCHIVE_BYTES: '4096' } });
  extraApis.push(small);
  const net = controlledFetch();
  net.setFault((call) => (call.path.endsWith('/datas') ? fetch(small.url + call.path, call.init) : undefined));
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch }, enrolment);
  await checkIns(client, users, 1500);
  const report = await client.sync();
  expect(report).toMatchObject({ ok: true });
  expect(net.statuses('/synchro/datas')[0]).toBe(413);
  expect(client.state.waiting).toBe(0);
  expect(await sessionsOf(suite.db, device.id)).toBeGreaterThan(2);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 1500, distinctAttendances: 1500, marks: 0, distinctMarks: 0 });
});
