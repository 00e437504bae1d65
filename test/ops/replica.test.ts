// A read replica for staff reads (DATABASE_REPLICA_URL): a streaming standby of a PostgreSQL of
// this suite's own (a cold copy of its data directory, db/embedded-replica.ts). The protocol's
// promise holds: figures read after a device saw status 2 include its batch, read on the replica
// once it has replayed that far, on the primary while it lags. Stopped, reads go to the primary
// (no error) and /healthz says so; started again, reads go back to it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, ensureDatabase, type EmbeddedDatabase } from '../../db/embedded.js';
import { copyAsStandby, startStandby, type EmbeddedReplica } from '../../db/embedded-replica.js';
import { connectDatabase, type DatabaseHandle } from '../../db/database.js';
import { prepareDatabase } from '../../db/setup.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { REPLICA_RETRY_MS } from '../../api/context/replica.js';

const logger = createLogger('test', 'silent');
let dir: string;
let primary: EmbeddedDatabase;
let replica: EmbeddedReplica;
let stack: TestStack;
let handle: DatabaseHandle;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-replica-'));
  await fs.chmod(dir, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach its directory
  const first = await startEmbeddedPostgres(path.join(dir, 'primary'), logger);
  const url = await ensureDatabase(first.url, 'attendance');
  await prepareDatabase(envToConfig({ NODE_ENV: 'test' }), url, logger);
  await first.stop();
  await copyAsStandby(path.join(dir, 'primary', 'postgres'), path.join(dir, 'replica', 'postgres'), first.url);
  primary = await startEmbeddedPostgres(path.join(dir, 'primary'), logger, { port: first.port });
  replica = await startStandby(path.join(dir, 'replica', 'postgres'), url);
  stack = await startStack({ databaseUrl: url, worker: true, env: { DATABASE_URL: url, DATABASE_REPLICA_URL: replica.url } });
  handle = connectDatabase(url, { max: 2, logger, applicationName: 'attendance-test' });
}, 120_000);

afterAll(async () => {
  await handle?.close();
  await stack?.stop();
  await replica?.stop();
  await primary?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Runs `statement` on the replica as its superuser (pausing and resuming its replay). */
async function onReplica(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: replica.url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

let recordId = 0;
async function world() {
  const school = await aSchool(handle.db, { timezone: 'Europe/Paris' });
  const user = await aUser(handle.db, school.id, { enrolled_on: '2026-10-01' });
  const device = await new TestDevice(stack.url, await aDevice(handle.db, school.id)).signIn();
  const token = await loginAs(stack.url, await aStaff(handle.db, 'backoffice'));
  /** Syncs a full school day of the user (status 2 seen, package taken, acknowledged). */
  const attend = (date: string) => device.sync(batchZip({
    'device.xml': deviceXml(),
    'attendances.csv': attendancesCsv([
      { record_id: ++recordId, user_id: user.id, type: 'checkin', occurred_at: `${date}T08:00:00+01:00` },
      { record_id: ++recordId, user_id: user.id, type: 'checkout', occurred_at: `${date}T16:00:00+01:00` },
    ]),
  }));
  /** Present that day, as the figures say (a GET: a read-only route). */
  const present = async (date: string) => {
    const res = await http(stack.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=${date}&to=${date}`, { token });
    expect(res.status).toBe(200);
    return res.body.buckets[0].present as number;
  };
  return { attend, present };
}

const served = () => ({ ...stack.api.ctx.replica.served });

test('figures read after status 2 include the batch: on the replica once it replayed it, on the primary while it lags', async () => {
  const { attend, present } = await world();
  expect((await http(stack.url, 'GET', '/healthz')).body).toMatchObject({ status: 'ok', replica: 'up' });

  await attend('2026-11-16');
  let before = served();
  expect(await present('2026-11-16')).toBe(1);
  expect(served().replica).toBe(before.replica + 1);

  // The replica stops replaying: the next batch is on the primary only.
  await onReplica('SELECT pg_wal_replay_pause()');
  try {
    await attend('2026-11-17');
    before = served();
    expect(await present('2026-11-17')).toBe(1);
    expect(served()).toEqual({ replica: before.replica, primary: before.primary + 1 });
  } finally {
    await onReplica('SELECT pg_wal_replay_resume()');
  }
  before = served();
  expect(await present('2026-11-17')).toBe(1);
  expect(served().replica).toBe(before.replica + 1);
});

test('with the replica stopped, reads go to the primary and /healthz says so; started again, reads go back to it', async () => {
  const { attend, present } = await world();
  await replica.stop();
  try {
    await attend('2026-11-18');
    const before = served();
    expect(await present('2026-11-18')).toBe(1);
    expect(await present('2026-11-18')).toBe(1);
    expect(served()).toEqual({ replica: before.replica, primary: before.primary + 2 });
    expect((await http(stack.url, 'GET', '/healthz')).body).toMatchObject({ status: 'ok', replica: 'down' });
  } finally {
    await replica.start();
  }
  // Asked again REPLICA_RETRY_MS after it was found down.
  const deadline = Date.now() + REPLICA_RETRY_MS + 10_000;
  let health = (await http(stack.url, 'GET', '/healthz')).body;
  while (health.replica !== 'up' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    health = (await http(stack.url, 'GET', '/healthz')).body;
  }
  expect(health.replica).toBe('up');
  const before = served();
  expect(await present('2026-11-18')).toBe(1);
  expect(served().replica).toBe(before.replica + 1);
}, 60_000);
