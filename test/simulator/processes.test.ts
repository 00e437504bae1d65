// The simulator against two api processes and two worker processes sharing one database:
// devices spread over both apis, imports taken by both workers, and every check holds —
// nothing depends on a single process.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSimulation } from '../../simulator/run.js';
import { connectTestDatabase, createSuiteDatabase } from '../support/database.js';
import { aStaff } from '../support/fixtures.js';
import { eventually, freePort, killIfRunning, runScript, type RunningProcess } from '../support/processes.js';

let dataDir: string;
let db: ReturnType<typeof connectTestDatabase>;
const apis: Array<{ proc: RunningProcess; url: string }> = [];
const workers: RunningProcess[] = [];

beforeAll(async () => {
  const databaseUrl = await createSuiteDatabase();
  db = connectTestDatabase(databaseUrl);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-sim-'));
  const env = { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, JWT_SECRET: 'simulator-test-secret-long-enough-0123456789', LOG_LEVEL: 'info', HOST: '127.0.0.1' };
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    apis.push({ proc: runScript('api/main.ts', { ...env, PORT: String(port), API_PROCESSES: '1' }), url: `http://127.0.0.1:${port}` });
    // debug: the workers' 'job done' lines (counted below) are logged at debug.
    workers.push(runScript('worker/main.ts', { ...env, LOG_LEVEL: 'debug' }));
  }
  await Promise.all([...apis.map((a) => a.proc.waitForLine(/api listening/)), ...workers.map((w) => w.waitForLine(/worker started/))]);
});

afterAll(async () => {
  for (const p of [...apis.map((a) => a.proc), ...workers]) await killIfRunning(p, 'SIGTERM');
  await db?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a small fleet on two apis and two workers: rows stored once, figures equal, no device stuck', async () => {
  const staff = await aStaff(db.db, 'backoffice');
  const report = await runSimulation({
    urls: apis.map((a) => a.url), email: staff.email, password: staff.password,
    devices: 4, days: 2, seed: 7, usersPerDevice: 6, ticks: ['07:30', '09:00', '12:30', '16:30'],
    network: { drop: 0.05, timeout: 0.05 },
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.figures.rows_expected_stored).toBeGreaterThan(40);
  // The network failed some calls and the devices got through by retrying.
  expect(report.figures.retries).toBeGreaterThan(0);

  // Both apis answered device calls, both workers imported batches.
  const deviceCalls = apis.map((a) => a.proc.jsonLines().filter((l) => l.req?.path?.startsWith('/v4/')).length);
  expect(deviceCalls.every((n) => n > 0)).toBe(true);
  const imports = await eventually(() => {
    const n = workers.map((w) => w.jsonLines().filter((l) => l.msg === 'job done' && l.queue === 'import-batch').length);
    return n.reduce((a, b) => a + b, 0) >= report.figures.syncs && n;
  }, 10_000, 'import log lines');
  expect(imports.every((n) => n > 0)).toBe(true);
}, 240_000);

test('a second run with the same seed reuses the school, pupils and devices and still checks out', async () => {
  const staff = await aStaff(db.db, 'backoffice');
  const report = await runSimulation({
    urls: apis.map((a) => a.url), email: staff.email, password: staff.password,
    devices: 4, days: 2, seed: 7, usersPerDevice: 6, ticks: ['09:00', '16:30'], network: { drop: 0, timeout: 0 },
  });
  expect(report.school.reused).toBe(true);
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
}, 240_000);

test('npm run simulate: prints the checks and exits 0 when they hold, 64 on a usage error', async () => {
  const staff = await aStaff(db.db, 'backoffice');
  const cli = runScript('simulator/cli.ts', { ADMIN_EMAIL: staff.email, ADMIN_PASSWORD: staff.password }, {
    args: [...apis.flatMap((a) => ['--url', a.url]), '--devices', '2', '--days', '1', '--seed', '11', '--users-per-device', '4'],
  });
  expect(await cli.waitForExit(120_000)).toEqual({ code: 0, signal: null });
  const out = cli.stdout.join('\n');
  expect(out).toMatch(/^ok\s+every generated row stored exactly once/m);
  expect(out).toMatch(/^ok\s+per-day figures from the API equal/m);
  expect(out).toMatch(/^ok\s+no device left stuck/m);
  expect(cli.stderr.join('')).not.toContain('▕'); // no progress bar when stderr is not a terminal

  const usage = runScript('simulator/cli.ts', {}, { args: ['--devices', '2'] });
  expect((await usage.waitForExit(30_000)).code).toBe(64);
  expect(usage.stderr.join('\n')).toContain('--url is required');
}, 180_000);
