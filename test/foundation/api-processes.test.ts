// `npm run api` with API_PROCESSES=2: two processes share the port (node:cluster), agree on
// the JWT secret, and the primary restarts one that dies.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledEntry } from '../../runtime/compiled.js';
import { connectTestDatabase, createSuiteDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { childPids, commandLine, eventually, freePort, isAlive, killIfRunning, runScript, type RunningProcess } from '../support/processes.js';

let proc: RunningProcess;
let dataDir: string;
let db: ReturnType<typeof connectTestDatabase>;
let url: string;

const apiChildren = () => childPids(proc.pid).filter((pid) => commandLine(pid)?.includes(compiledEntry('api/main.ts')));

/** Requests on fresh connections (node:cluster hands out connections, not requests); answers the pids that served them. */
async function spread(token: string, count: number): Promise<Set<number>> {
  const served = () => proc.jsonLines().filter((l) => l.req?.path === '/api/staff' && l.res?.status === 200);
  const before = served().length;
  for (let i = 0; i < count; i++) {
    const res = await http(url, 'GET', '/api/staff', { token, headers: { connection: 'close' } });
    expect(res.status).toBe(200);
  }
  // The request log line is written as the answer leaves: give the pipe a moment.
  return eventually(() => {
    const lines = served();
    return lines.length >= before + count && new Set(lines.slice(before).map((l) => l.pid as number));
  }, 5_000, 'request log lines');
}

beforeAll(async () => {
  const databaseUrl = await createSuiteDatabase();
  db = connectTestDatabase(databaseUrl);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-api-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // No JWT_SECRET: both processes read the one generated in DATA_DIR.
  proc = runScript('api/main.ts', { DATABASE_URL: databaseUrl, PORT: String(port), API_PROCESSES: '2', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  await eventually(() => proc.jsonLines().filter((l) => l.msg === 'api listening').length === 2, 60_000, 'two api processes listening');
});

afterAll(async () => {
  const children = proc ? apiChildren() : [];
  await killIfRunning(proc);
  for (const pid of children) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await db?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('API_PROCESSES=2', () => {
  test('two processes answer on one port and accept each other\'s tokens', async () => {
    expect(apiChildren()).toHaveLength(2);
    const staff = await aStaff(db.db, 'backoffice');
    const token = await loginAs(url, staff);
    const pids = await spread(token, 20);
    expect(pids.size).toBe(2);
    expect([...pids].sort()).toEqual(apiChildren().sort());
  });

  test('status?wait=N: every process hears the change, whichever process holds the waiting request', async () => {
    const school = await aSchool(db.db);
    const bo = await loginAs(url, await aStaff(db.db, 'backoffice'));
    const devices = await Promise.all(Array.from({ length: 6 }, async () => new TestDevice(url, await aDevice(db.db, school.id)).signIn()));
    for (const dev of devices) expect((await dev.upload(batchZip({ 'device.xml': deviceXml() }))).status).toBe(202); // no worker: status 1 stays
    const before = proc.jsonLines().length;
    const t = performance.now();
    // Fresh connections: node:cluster spreads connections, not requests.
    const waits = devices.map((dev) => http(url, 'GET', '/v4/synchro/status?wait=25', { token: dev.token, headers: { connection: 'close' } }));
    await new Promise((r) => setTimeout(r, 500));
    for (const dev of devices) expect((await http(url, 'POST', `/api/devices/${dev.identity.id}/flags`, { token: bo, body: { name: 'RESET_SESSION' } })).status).toBeLessThan(300);
    const answers = await Promise.all(waits);
    expect(answers.map((a) => a.body.status)).toEqual(devices.map(() => 0));
    expect(performance.now() - t).toBeLessThan(20_000);
    const pids = await eventually(() => {
      const lines = proc.jsonLines().slice(before).filter((l) => l.req?.path === '/v4/synchro/status' && l.res?.status === 200);
      return lines.length >= devices.length && new Set(lines.map((l) => l.pid as number));
    }, 5_000, 'status log lines');
    expect(pids.size).toBe(2);
  });

  test('the primary restarts a process that dies, and stops both on SIGTERM', async () => {
    const [victim, survivor] = apiChildren();
    process.kill(victim, 'SIGKILL');
    const replacement = await eventually(() => {
      const now = apiChildren();
      return now.length === 2 && !now.includes(victim) && now.find((pid) => pid !== survivor);
    }, 30_000, 'a replacement api process');
    await proc.waitForLine(/api process died: restarting/, 5_000);
    await eventually(() => proc.jsonLines().some((l) => l.msg === 'api listening' && l.pid === replacement), 30_000, 'the replacement listening');

    const staff = await aStaff(db.db, 'backoffice');
    const pids = await spread(await loginAs(url, staff), 20);
    expect([...pids].sort()).toEqual([survivor, replacement].sort());

    proc.child.kill('SIGTERM');
    expect(await proc.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(isAlive(survivor)).toBe(false);
    expect(isAlive(replacement)).toBe(false);
  }, 90_000);
});
