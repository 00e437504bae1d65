// PostgreSQL stopped under a running api (a restart, a failover, a crash): every answer is a
// 503 service_unavailable problem with Retry-After, never the driver's words or the database's
// address (those stay in the log); /healthz says 503; once PostgreSQL is back, everything
// answers again without restarting the api. Under traffic, with a worker running, neither
// process exits, and nothing uploaded is lost or stored twice.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';
import { prepareDatabase } from '../../db/setup.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { connectTestDatabase } from '../support/database.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, someUsers } from '../support/fixtures.js';
import { http, type HttpResult } from '../support/http.js';
import { eventually, freePort, killIfRunning, runScript, type RunningProcess } from '../support/processes.js';

const logger = createLogger('test', 'silent');
const METRICS_TOKEN = 'metrics-token-for-the-outage-test';
let dataDir: string;
let pgPort: number;
let pgServer: EmbeddedDatabase | null = null;
let api: RunningProcess;
let url: string;

beforeAll(async () => {
  // A PostgreSQL of its own: the suites' shared one cannot be stopped.
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-outage-'));
  pgPort = await freePort();
  pgServer = await startEmbeddedPostgres(dataDir, logger, { port: pgPort });
  const databaseUrl = await ensureDatabase(pgServer.url, 'attendance');
  await prepareDatabase(envToConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), databaseUrl, logger);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = runScript('api/main.ts', {
    DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!',
    METRICS_TOKEN, DATA_DIR: dataDir,
  });
  await api.waitForLine(/"api listening"/, 60_000);
}, 120_000);

afterAll(async () => {
  await killIfRunning(api, 'SIGTERM');
  await pgServer?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

function expectUnavailable(res: HttpResult, what: string): void {
  expect({ what, status: res.status, type: res.headers.get('content-type') }).toEqual({ what, status: 503, type: expect.stringContaining('application/problem+json') });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const text = JSON.stringify(res.body);
  for (const internal of ['127.0.0.1', String(pgPort), 'ECONNREFUSED', 'connect', 'postgres', 'terminat']) expect(text).not.toContain(internal);
}

test('PostgreSQL stopped: 503 service_unavailable with Retry-After and no internals; started again: the api answers again', async () => {
  const db = connectTestDatabase((await ensureDatabase(pgServer!.url, 'attendance')));
  const school = await aSchool(db.db);
  const staff = await aStaff(db.db, 'backoffice');
  const identity = await aDevice(db.db, school.id);
  await db.close();
  const login = await http(url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } });
  expect(login.status).toBe(200);
  const token: string = login.body.access_token;
  const device = await new TestDevice(url, identity).signIn();
  expect((await http(url, 'GET', '/api/schools', { token })).status).toBe(200);

  await pgServer!.stop();
  pgServer = null;

  const answers: Array<[string, HttpResult]> = [
    ['login', await http(url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } })],
    ['schools', await http(url, 'GET', '/api/schools', { token })],
    ['school by id', await http(url, 'GET', `/api/schools/${school.id}`, { token })],
    ['device token', await http(url, 'POST', '/v4/auth/token', { body: { device_id: identity.id, secret: identity.secret } })],
    ['device status', await device.status()],
  ];
  for (const [what, res] of answers) {
    expectUnavailable(res, what);
    expect(res.body).toMatchObject({ code: 'service_unavailable', status: 503 });
  }
  const health = await http(url, 'GET', '/healthz');
  expectUnavailable(health, 'healthz');
  // The metrics still answer, and say so.
  const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^attendance_database_up 0$/m);
  // The log keeps what the answers leave out.
  expect(api.stdout.join('\n')).toMatch(/ECONNREFUSED|terminat/);

  pgServer = await startEmbeddedPostgres(dataDir, logger, { port: pgPort });
  await eventually(async () => (await http(url, 'GET', '/healthz')).status === 200, 30_000, 'healthz 200 after PostgreSQL is back');
  expect((await http(url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } })).status).toBe(200);
  expect((await http(url, 'GET', '/api/schools', { token })).status).toBe(200);
  expect((await device.status()).status).toBe(200);
  expect(api.child.exitCode).toBeNull();
}, 120_000);

test('PostgreSQL restarted under traffic: the api and the worker ride through it, and what was uploaded is imported once', async () => {
  const databaseUrl = await ensureDatabase(pgServer!.url, 'attendance');
  const db = connectTestDatabase(databaseUrl);
  const school = await aSchool(db.db);
  const users = await someUsers(db.db, school.id, 3);
  const devices = [await new TestDevice(url, await aDevice(db.db, school.id)).signIn(), await new TestDevice(url, await aDevice(db.db, school.id)).signIn()];
  const worker = runScript('worker/main.ts', { DATABASE_URL: databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info' });
  try {
    await worker.waitForLine(/worker started/, 60_000);
    const batch = (first: number) => batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(users.map((u, i) => ({
      record_id: first + i, user_id: u.id, type: 'checkin' as const, occurred_at: new Date(Date.now() - 3_600_000 + (first + i) * 1000).toISOString(),
    }))) });
    expect((await devices[0].sync(batch(1))).pkg.all('import')[0]).toMatchObject({ accepted: '3' });

    // Traffic while PostgreSQL stops and comes back: sign-ins, reads and uploads, whatever they are answered.
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        await Promise.allSettled([devices[1].status(), http(url, 'GET', '/healthz'), devices[1].upload(batch(100))]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await pgServer!.stop();
    pgServer = null;
    await new Promise((r) => setTimeout(r, 5_000));
    pgServer = await startEmbeddedPostgres(dataDir, logger, { port: pgPort });
    await eventually(async () => (await http(url, 'GET', '/healthz')).status === 200, 30_000, 'healthz 200 after PostgreSQL is back');
    traffic = false;
    await load;

    // Neither process exited, and both work again: a new batch goes through the whole cycle.
    expect({ api: api.child.exitCode, worker: worker.child.exitCode }).toEqual({ api: null, worker: null });
    await devices[1].syncReliably(() => batch(100));
    const outcome = await devices[0].syncReliably(() => batch(4));
    expect(outcome.pkg.all('import')[0]).toMatchObject({ accepted: '3' });
    const stored = await db.db.selectFrom('attendances').select(['device_id', 'record_id']).where('school_id', '=', school.id).execute();
    const perDevice = (d: TestDevice) => stored.filter((r) => r.device_id === d.identity.id).map((r) => Number(r.record_id)).sort((a, b) => a - b);
    expect(perDevice(devices[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(perDevice(devices[1])).toEqual([100, 101, 102]);
    expect(worker.child.exitCode).toBeNull();
  } finally {
    await killIfRunning(worker, 'SIGTERM');
    await db.close();
  }
}, 180_000);
