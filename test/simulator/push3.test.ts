// The simulator with Security PUSH 3.x terminals (`--protocol push3`, issue #27): each calls
// unknown first (pending, its registration refused), is approved, registers at /iclock/registry,
// reads /iclock/push, carries its RegistryCode's token cookie and sends its punches as rtlog
// events with temperatures, some at fever, through lost answers and timeouts. The ground truth
// holds: every punch stored once with its temperature, the figures, one fever alert per hot check-in.
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

test('a PUSH 3.x fleet: registered, rtlog punches stored once with their temperature, figures and fever alerts equal to the ground truth', async () => {
  const staff = await aStaff(db.db, 'backoffice');
  const report = await runSimulation({
    urls: [stack.url], email: staff.email, password: staff.password, protocol: 'push3',
    devices: 3, days: 3, seed: 27, usersPerDevice: 6, ticks: ['07:30', '09:00', '12:30', '16:30'],
    network: { drop: 0.05, timeout: 0.05 }, rates: { fever: 0.15 },
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.checks.map((c) => c.name)).toContain('one fever alert per check-in at or above the fever threshold');
  expect(report.figures.rows_expected_stored).toBeGreaterThan(30);
  expect(report.figures.fever_alerts_expected).toBeGreaterThan(0);
  expect(report.figures.retries).toBeGreaterThan(0);

  // Each terminal registered as 3.x (pending first: its model and firmware recorded) and now carries its token.
  const terminals = await db.db.selectFrom('devices').innerJoin('push_terminals', 'push_terminals.device_id', 'devices.id')
    .select(['push_terminals.push_version', 'push_terminals.model', 'push_terminals.firmware', 'push_terminals.registry_code', 'push_terminals.registry_token_seen_at'])
    .where('devices.school_id', '=', report.school.id).execute();
  expect(terminals).toHaveLength(3);
  for (const t of terminals) {
    expect(t).toMatchObject({ push_version: '3.1.2', model: 'SpeedFace-V5L', firmware: 'ZAM180-Ver1.1.17' });
    expect(t.registry_code).toMatch(/^[0-9a-f]{32}$/);
    expect(t.registry_token_seen_at).not.toBeNull();
  }
  // The punches came as rtlog batches, with their temperatures.
  const files = await db.db.selectFrom('sync_sessions').innerJoin('devices', 'devices.id', 'sync_sessions.device_id')
    .select('sync_sessions.stats').where('devices.school_id', '=', report.school.id).execute();
  expect(files.length).toBeGreaterThan(0);
  expect(files.every((s) => s.stats && 'rtlog' in (s.stats as object))).toBe(true);
  const hot = await db.db.selectFrom('attendances').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('school_id', '=', report.school.id).where('temperature', '>=', 37.5).executeTakeFirstOrThrow();
  expect(Number(hot.n)).toBe(report.figures.fever_alerts_expected);
}, 180_000);
