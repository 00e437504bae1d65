// One `npm start` per DATA_DIR. A second start on the same directory leaves the first alone
// and exits at once, naming it; a start finding the lock of one that crashed (SIGKILL: its
// PostgreSQL and children left behind) takes over and runs.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { http } from '../support/http.js';
import { childPids, eventually, freePort, isAlive, runScript, type RunningProcess } from '../support/processes.js';

let dataDir: string;
let port: number;
const started: RunningProcess[] = [];
const lockFile = () => path.join(dataDir, 'start.lock');
const postmasterPid = () => Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

function start(): RunningProcess {
  const proc = runScript('bin/start.ts', { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', DEMO_DATA: 'false' }, { detached: true });
  started.push(proc);
  return proc;
}

async function backofficeLogin(): Promise<number> {
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as { backoffice: { email: string; password: string } };
  return (await http(`http://127.0.0.1:${port}`, 'POST', '/api/auth/login', { body: creds.backoffice })).status;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-lock-'));
  port = await freePort();
});

afterAll(async () => {
  for (const proc of started) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
    proc.child.kill('SIGTERM');
    await proc.waitForExit(45_000).catch(() => proc.child.kill('SIGKILL'));
  }
  const pgFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (fs.existsSync(pgFile) && isAlive(postmasterPid())) {
    const pid = postmasterPid();
    process.kill(pid, 'SIGINT');
    await eventually(() => !isAlive(pid), 20_000, 'PostgreSQL stopped').catch(() => undefined);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

test('a second start on the same DATA_DIR exits at once naming the first, which keeps running', async () => {
  const first = start();
  await first.waitForLine(/Ctrl-C stops everything/, 90_000);
  const pgPid = postmasterPid();
  expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: first.pid, url: `http://localhost:${port}` });

  const second = start();
  const exit = await second.waitForExit(20_000);
  expect(exit).toEqual({ code: 1, signal: null });
  const said = [...second.stdout, ...second.stderr].filter((l) => l.trim() !== '');
  expect(said).toHaveLength(1);
  expect(said[0]).toContain(`pid ${first.pid}`);
  expect(said[0]).toContain(`http://localhost:${port}`);

  // The first is untouched: same PostgreSQL, healthy, logins work.
  expect(postmasterPid()).toBe(pgPid);
  expect(isAlive(pgPid)).toBe(true);
  expect((await http(`http://127.0.0.1:${port}`, 'GET', '/healthz')).status).toBe(200);
  expect(await backofficeLogin()).toBe(200);
  expect(first.child.exitCode).toBeNull();
}, 150_000);

test('the lock of a start killed with SIGKILL is taken over: the next start stops what it left and runs', async () => {
  const first = started[0];
  expect(first.child.exitCode).toBeNull();
  const orphans = childPids(first.pid);
  const pgPid = postmasterPid();
  first.child.kill('SIGKILL');
  await first.waitForExit(10_000);
  expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8')).pid).toBe(first.pid); // left behind

  const next = start();
  await next.waitForLine(/Ctrl-C stops everything/, 90_000);
  expect(next.jsonLines().map((l) => l.msg)).toContain('taking over the lock of an earlier start that is no longer running');
  expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8')).pid).toBe(next.pid);
  // What the dead start left running is gone; a new PostgreSQL serves.
  for (const pid of orphans) expect(isAlive(pid)).toBe(false);
  expect(postmasterPid()).not.toBe(pgPid);
  expect(await backofficeLogin()).toBe(200);

  next.child.kill('SIGTERM');
  expect(await next.waitForExit(45_000)).toEqual({ code: 0, signal: null });
  expect(fs.existsSync(lockFile())).toBe(false);
}, 150_000);

test('a lock naming a process that no longer exists (a crash, a reboot) does not stop a start', async () => {
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(gone.stdout);
  expect(isAlive(deadPid)).toBe(false);
  fs.writeFileSync(lockFile(), JSON.stringify({ pid: deadPid, url: `http://localhost:${port}`, started_at: new Date().toISOString() }));

  const proc = start();
  await proc.waitForLine(/Ctrl-C stops everything/, 90_000);
  expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8')).pid).toBe(proc.pid);
  proc.child.kill('SIGTERM');
  expect(await proc.waitForExit(45_000)).toEqual({ code: 0, signal: null });
}, 150_000);
