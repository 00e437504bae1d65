// "Resumes after a crash at any step": for every call of a whole sync (sign-in, status, manifest,
// upload, status?wait, instructions, ack, on both channels), a client whose process dies right
// after that call reached the server (its answer never read), then a new client on the same
// storage. Every time: every row stored once, nothing left waiting.
import { expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { SyncClient } from '../../sdk/src/index.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, checkIns, clock, controlledFetch, enrolledClient, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });

test('a process killed after any call of a sync: the next one finishes it, each row stored once', async () => {
  // How many calls one clean sync makes, on a device like the ones below.
  const probe = await aSchoolWithDevice(suite.db, suite.url);
  const counting = controlledFetch();
  const clean = await enrolledClient({ storage: memoryStorage(), fetch: counting.fetch }, probe.enrolment);
  await checkIns(clean, probe.users, 3);
  await clean.mark({ userId: probe.users[0].id, date: clock.today, mark: 'absent' });
  const before = counting.log.length;
  expect((await clean.sync()).ok).toBe(true);
  const calls = counting.log.slice(before).map((c) => `${c.method} ${c.path}`);
  expect(calls).toEqual(expect.arrayContaining(['POST /v4/synchro/datas', 'POST /v4/appel/datas', 'POST /v4/synchro/ack', 'POST /v4/appel/ack']));

  for (let n = 1; n <= calls.length; n++) {
    const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
    const storage = memoryStorage();
    const net = controlledFetch();
    const first = await enrolledClient({ storage, fetch: net.fetch, waitScale: 0.01 }, enrolment);
    await checkIns(first, users, 3);
    await first.mark({ userId: users[0].id, date: clock.today, mark: 'absent' });
    let seen = 0;
    net.setFault(async (_call, forward) => {
      seen++;
      if (seen < n) return undefined;
      if (seen === n) await forward(); // reaches the server; the answer dies with the process
      throw new TypeError('the process is gone');
    });
    expect((await first.sync()).ok).toBe(false);

    const second = await SyncClient.open({ storage, waitScale: 0.05, statusWaitSeconds: 5 });
    const report = await second.sync();
    expect([n, calls[n - 1], report.ok, second.state.waiting, second.state.refused]).toEqual([n, calls[n - 1], true, 0, []]);
    expect([n, await storedFor(suite.db, device.id)]).toEqual([n, { attendances: 3, distinctAttendances: 3, marks: 1, distinctMarks: 1 }]);
  }
}, 180_000);
