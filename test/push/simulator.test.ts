// The simulator with PUSH terminals: a mixed fleet (v4 devices and PUSH terminals, lost answers,
// timeouts, terminals with their clock off) against the real api and worker; every punch stored
// once, the figures equal to those computed from the events, nothing left unacknowledged.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runSimulation } from '../../simulator/run.js';
import { connectTestDatabase } from '../support/database.js';
import { aStaff } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
beforeAll(async () => {
  stack = await startStack({ worker: true });
  db = connectTestDatabase(stack.databaseUrl);
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

test.each(['mixed', 'push'] as const)('a %s fleet: punches stored once, figures equal to the ground truth, every punch acknowledged', async (protocol) => {
  const staff = await aStaff(db.db, 'backoffice');
  const report = await runSimulation({
    urls: [stack.url], email: staff.email, password: staff.password, protocol,
    devices: 4, days: 2, seed: protocol === 'mixed' ? 21 : 22, usersPerDevice: 6, ticks: ['07:30', '09:00', '12:30', '16:30'],
    network: { drop: 0.05, timeout: 0.05 },
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.figures.rows_expected_stored).toBeGreaterThan(40);
  const terminals = await db.db.selectFrom('devices').select('id').where('school_id', '=', report.school.id).where('protocol', '=', 'push').execute();
  expect(terminals).toHaveLength(protocol === 'mixed' ? 2 : 4);
  const pushRows = await db.db.selectFrom('attendances').select((eb) => eb.fn.countAll<string>().as('n')).where('device_id', 'in', terminals.map((t) => t.id)).executeTakeFirstOrThrow();
  expect(Number(pushRows.n)).toBeGreaterThan(10);
}, 180_000);
