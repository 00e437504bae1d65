// Punch states as docs/protocol/push.md §4 reads them (issue 27 §5): 0 check-in, 1 check-out,
// 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out; 255 (or none) is a plain punch whose
// type is inferred by pairing within the local day (first opens, next closes), marked on the
// row. Checked where a school sees it: the rows' types and the user-day's time in school.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { PushTerminal } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;

beforeAll(async () => {
  stack = await startStack({ worker: true });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

async function aDay(punches: Array<{ time: string; status?: number }>) {
  const school = await aSchool(db.db, { timezone: 'UTC', day_end: '23:00' });
  const pupil = await aUser(db.db, school.id, { badge: '42' });
  const sn = `ST${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1e4)}`;
  const device = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Gate' } });
  expect(device.status).toBe(201);
  const sent = await new PushTerminal(stack.url, sn).punches(punches.map((p) => ({ pin: '42', time: `2026-11-18 ${p.time}`, status: p.status })));
  expect(sent.body).toBe(`OK: ${punches.length}`);
  const rows = await waitFor(async () => {
    const found = await db.db.selectFrom('attendances').select(['type', 'type_inferred', 'punch_status']).where('device_id', '=', device.body.id).orderBy('occurred_at').execute();
    return found.length === punches.length ? found : undefined;
  }, 15_000, 'punches imported');
  const day = await waitFor(() => db.db.selectFrom('user_days').select(['seconds']).where('user_id', '=', pupil.id).where('date', '=', '2026-11-18').executeTakeFirst(), 15_000, 'user-day');
  return { rows, hours: day.seconds / 3600 };
}

test('break and overtime states count as the check-ins and check-outs they are', async () => {
  const { rows, hours } = await aDay([
    { time: '08:00:00', status: 0 }, { time: '12:00:00', status: 2 }, { time: '13:00:00', status: 3 },
    { time: '17:00:00', status: 1 }, { time: '18:00:00', status: 4 }, { time: '20:00:00', status: 5 },
  ]);
  expect(rows.map((r) => [r.punch_status, r.type, r.type_inferred])).toEqual([
    [0, 'checkin', false], [2, 'checkout', false], [3, 'checkin', false], [1, 'checkout', false], [4, 'checkin', false], [5, 'checkout', false],
  ]);
  expect(hours).toBe(4 + 4 + 2); // the lunch break is out of school
});

test('255 (a terminal without in/out keys) pairs within the day, and says the types were inferred', async () => {
  const { rows, hours } = await aDay([{ time: '08:00:00', status: 255 }, { time: '12:00:00', status: 255 }, { time: '13:00:00', status: 255 }, { time: '16:30:00', status: 255 }]);
  expect(rows.map((r) => [r.type, r.type_inferred])).toEqual([['checkin', true], ['checkout', true], ['checkin', true], ['checkout', true]]);
  expect(hours).toBe(4 + 3.5);
});
