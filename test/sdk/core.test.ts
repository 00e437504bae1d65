// The SDK against the real server on loopback: enrol, queue check-ins and marks, sync, and what the
// server stored; the roster and the refusals as an app shows them.
import { expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { SyncClient } from '../../sdk/src/index.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, clock, enrolledClient, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });

test('an enrolled client sends check-ins and a roll call once, and learns the roster', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url, 3);
  const storage = memoryStorage();
  const client = await enrolledClient({ storage }, enrolment);
  expect(client.enrolled).toBe(true);
  const states: number[] = [];
  client.subscribe((s) => states.push(s.waiting));

  await client.checkIn({ userId: users[0].id, type: 'checkin' });
  await client.checkIn({ userId: users[1].id, type: 'checkin', temperature: 36.6 });
  await client.mark({ userId: users[2].id, date: clock.today, mark: 'absent', period: 'P1' });
  await client.mark({ userId: users[0].id, date: clock.today, mark: 'excused', reason: 'illness', period: 'P1' });
  expect(client.state.waiting).toBe(4);

  const report = await client.sync();
  expect(report).toMatchObject({ ok: true, channels: { synchro: { stored: 2, refused: 0 }, appel: { stored: 2, refused: 0 } } });
  expect(client.state).toMatchObject({ waiting: 0, lastError: null, refused: [], syncing: false });
  expect(client.state.lastSentAt).not.toBeNull();
  expect(client.roster().map((r) => r.userId).sort()).toEqual(users.map((u) => u.id).sort());
  expect(states.at(-1)).toBe(0);
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 2, distinctAttendances: 2, marks: 2, distinctMarks: 2 });

  // Nothing waiting: a sync sends no rows again.
  expect((await client.sync()).channels.appel).toMatchObject({ skipped: 'nothing-to-send' });
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 2, marks: 2 });

  // A row the server refuses is shown with its reason, and leaves the queue.
  await client.checkIn({ userId: 2_000_000_000, type: 'checkin' });
  const refusedReport = await client.sync();
  expect(refusedReport.channels.synchro).toMatchObject({ refused: 1 });
  expect(client.state.refused).toEqual([expect.objectContaining({ channel: 'synchro', code: 'unknown_user', line: 2, message: expect.any(String) })]);
  expect(client.state.waiting).toBe(0);

  // Reopened on the same storage: the same identity, roster and history.
  const again = await SyncClient.open({ storage });
  expect(again.enrolled).toBe(true);
  expect(again.roster()).toHaveLength(3);
  expect(again.state.refused).toHaveLength(1);
});
