// The instruction package applied (docs/protocol/v4.md §5.8, §6) as staff set flags on the
// dashboard: settings, REBOOT, REPORT_SETTINGS and FULL_RESYNC (everything sent again, nothing
// stored twice), PURGE_CONFIRMED_LOGS, and RESET_SESSION under a batch in flight.
import { expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, checkIns, clock, controlledFetch, enrolledClient, sessionsOf, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });

async function setFlag(deviceId: string, name: string, params?: unknown): Promise<void> {
  const token = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
  const res = await http(suite.url, 'POST', `/api/devices/${deviceId}/flags`, { token, body: { name, ...(params ? { params } : {}) } });
  expect(res.status).toBe(201);
}

test('settings, REBOOT, REPORT_SETTINGS and FULL_RESYNC reach the app; the resync stores nothing twice; PURGE frees the outbox', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const storage = memoryStorage();
  const client = await enrolledClient({ storage }, enrolment);
  await checkIns(client, users, 4);
  expect((await client.sync()).ok).toBe(true);

  await setFlag(device.id, 'SET_SETTINGS', { sync_interval_seconds: '120', language: 'fr' });
  await setFlag(device.id, 'REBOOT');
  await setFlag(device.id, 'FULL_RESYNC');
  const report = await client.sync();
  expect(report.ok).toBe(true);
  expect(report.flags.sort()).toEqual(['FULL_RESYNC', 'REBOOT', 'SET_SETTINGS']);
  expect(client.settings()).toMatchObject({ sync_interval_seconds: '120', language: 'fr' });
  expect(client.state.restartRequested).toBe(true);
  const resync = await suite.db.selectFrom('sync_sessions').select('stats').where('device_id', '=', device.id).orderBy('received_at', 'desc').limit(1).executeTakeFirstOrThrow();
  expect(resync.stats).toMatchObject({ 'attendances.csv': { received: 4, duplicates: 4, accepted: 0 } });
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 4, distinctAttendances: 4, marks: 0, distinctMarks: 0 });

  // REPORT_SETTINGS: the manifest asks for settings.xml, and the SDK sends what it holds.
  await setFlag(device.id, 'REPORT_SETTINGS');
  expect((await client.sync()).flags).toEqual(['REPORT_SETTINGS']);
  const reported = await suite.db.selectFrom('devices').select('reported_settings').where('id', '=', device.id).executeTakeFirstOrThrow();
  expect(reported.reported_settings).toEqual({ sync_interval_seconds: '120', language: 'fr' });

  expect(storage.dump().rows.filter((r) => r.state === 'stored')).toHaveLength(4);
  await setFlag(device.id, 'PURGE_CONFIRMED_LOGS');
  expect((await client.sync()).flags).toEqual(['PURGE_CONFIRMED_LOGS']);
  expect(storage.dump().rows).toHaveLength(0);
});

test('RESEND_SINCE: one sync walks every window, sending the stored rows of each again, nothing stored twice', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const client = await enrolledClient({ storage: memoryStorage() }, enrolment);
  const day = 86_400_000;
  for (const daysAgo of [50, 40, 20, 5]) await client.checkIn({ userId: users[0].id, type: 'checkin', at: new Date(Date.now() - daysAgo * day) });
  expect((await client.sync()).ok).toBe(true);

  await setFlag(device.id, 'RESEND_SINCE', { since: clock.day(-45) });
  const report = await client.sync();
  expect(report.ok).toBe(true);
  expect(report.flags).toEqual(['RESEND_SINCE']);
  expect(report.channels.synchro!.sessions.length).toBeGreaterThanOrEqual(2); // 45 days: two windows of at most 31
  const sessions = await suite.db.selectFrom('sync_sessions').select('stats').where('device_id', '=', device.id).orderBy('received_at').execute();
  const resent = sessions.slice(1).reduce((n, s) => n + ((s.stats as Record<string, { duplicates: number }>)['attendances.csv']?.duplicates ?? 0), 0);
  expect(resent).toBe(3); // the rows of 40, 20 and 5 days ago; not the one of 50
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 4, distinctAttendances: 4, marks: 0, distinctMarks: 0 });
});

test('RESET_SESSION while a batch is in flight: the SDK sends the same bytes again, each row stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch }, enrolment);
  await checkIns(client, users, 5);
  let reset = false;
  net.setFault(async (call, forward) => {
    if (!call.path.endsWith('/synchro/datas') || reset) return undefined;
    const res = await forward();
    reset = true;
    await setFlag(device.id, 'RESET_SESSION');
    return res;
  });
  expect((await client.sync()).ok).toBe(true);
  expect(net.statuses('/synchro/datas')).toEqual([202, 202]);
  expect(await sessionsOf(suite.db, device.id)).toBe(2);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 5, distinctAttendances: 5, marks: 0, distinctMarks: 0 });
  expect(client.state.waiting).toBe(0);
});
