// The api and the worker behind PgBouncer in transaction mode (DATABASE_URL the pooler,
// DATABASE_DIRECT_URL past it): syncs from several devices at once go through, multiplexed on
// three server connections, so statements prepared per connection or an import stage made per
// connection would be found missing on another session. LISTEN stays on direct connections.
// The whole suite runs through a pooler with `TEST_POOLER=1 npm test`; this file keeps the
// pooler covered by every `npm test`.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../db/database.js';
import { startPgBouncer, type PgBouncer } from '../../db/pgbouncer.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { connectTestDatabase, createSuiteDatabase, directUrl } from '../support/database.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { startStack, type TestStack } from '../support/services.js';

const POOL_SIZE = 3;
let dir: string;
let pooler: PgBouncer;
let stack: TestStack;
let direct: DatabaseHandle;
let pooled: DatabaseHandle;
let databaseName: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-pooler-test-'));
  const database = directUrl(await createSuiteDatabase());
  databaseName = new URL(database).pathname.slice(1);
  pooler = await startPgBouncer(process.env.TEST_ADMIN_DATABASE_URL!, dir, { poolSize: POOL_SIZE });
  const url = pooler.pooled(database);
  stack = await startStack({ databaseUrl: url, worker: true, env: { DATABASE_URL: url, DATABASE_DIRECT_URL: database, WORKER_CONCURRENCY: '4' } });
  pooled = connectTestDatabase(url);
  direct = connectTestDatabase(database);
});

afterAll(async () => {
  await pooled?.close();
  await direct?.close();
  await stack?.stop();
  await pooler?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

test('syncs from several devices at once go through the pooler on a few server connections, LISTEN past it', async () => {
  const { db } = pooled;
  const school = await aSchool(db);
  const users = await someUsers(db, school.id, 6);
  const devices = await Promise.all(users.map(async () => new TestDevice(stack.url, await aDevice(db, school.id)).signIn()));
  const pkgs = await Promise.all(devices.map(async (dev, i) => {
    const csv = attendancesCsv([
      { record_id: 1, user_id: users[i].id, type: 'checkin', occurred_at: '2026-11-20T08:00:00+01:00' },
      { record_id: 2, user_id: users[i].id, type: 'checkout', occurred_at: '2026-11-20T12:00:00+01:00' },
      { record_id: 3, user_id: 999999, type: 'checkin', occurred_at: '2026-11-20T08:00:00+01:00' },
    ]);
    return (await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }))).pkg;
  }));
  for (const pkg of pkgs) expect(pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '2', rejected: '1' });
  const days = await db.selectFrom('user_days').select(['user_id', 'seconds']).where('school_id', '=', school.id).where('date', '=', '2026-11-20').orderBy('user_id').execute();
  expect(days).toEqual(users.map((u) => ({ user_id: u.id, seconds: 4 * 3600 })).sort((a, b) => a.user_id - b.user_id));

  // The pooler held at most POOL_SIZE server connections to this database; the rest of the
  // database's sessions are the direct ones: the listeners (worker jobs, api status and PUSH) and this test's own.
  const pool = (await pooler.pools()).find((p) => p.database === databaseName)!;
  expect(Number(pool.sv_active) + Number(pool.sv_idle) + Number(pool.sv_used) + Number(pool.sv_tested) + Number(pool.sv_login)).toBeLessThanOrEqual(POOL_SIZE);
  const sessions = await sql<{ application_name: string; n: number }>`
    SELECT application_name, count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1`.execute(direct.db);
  const listeners = sessions.rows.filter((r) => /^attendance-(worker-listen|api-status|api-push)$/.test(r.application_name));
  expect(listeners.map((r) => [r.application_name, r.n])).toEqual([['attendance-api-push', 1], ['attendance-api-status', 1], ['attendance-worker-listen', 1]]);
  const total = sessions.rows.reduce((n, r) => n + r.n, 0);
  expect(total).toBeLessThanOrEqual(POOL_SIZE + listeners.length);
});
