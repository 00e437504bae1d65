// `npm start` on a fresh machine: an embedded PostgreSQL in DATA_DIR, migrations, demo data,
// supervised api and worker; Ctrl-C stops everything; the next start finds its data again.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledEntry } from '../../runtime/compiled.js';
import { createSuiteDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { childPids, commandLine, eventually, freePort, interrupt, isAlive, runScript, type RunningProcess } from '../support/processes.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';

interface Printed {
  url: string;
  backoffice: { email: string; password: string };
  schoolAdmin: { email: string; password: string };
  devices: Array<{ name: string; id: string; secret: string }>;
}

let dataDir: string;
let port: number;
const started: RunningProcess[] = [];

function start(env: Record<string, string> = {}): RunningProcess {
  const proc = runScript('bin/start.ts', { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ...env }, { detached: true });
  started.push(proc);
  return proc;
}

/** Waits for the banner `npm start` prints once the api is healthy, and reads it. */
async function banner(proc: RunningProcess): Promise<Printed> {
  await proc.waitForLine(/Ctrl-C stops everything/, 60_000);
  const text = proc.stdout.join('\n');
  const match = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`banner has no line matching ${re}:\n${text}`);
    return m;
  };
  const url = match(/Attendance sync service running at (http:\/\/\S+)/)[1];
  const bo = match(/Backoffice login: (\S+) \/ (\S+)/);
  const sa = match(/School admin login: (\S+) \/ (\S+)/);
  const devices = [...text.matchAll(/Device "([^"]+)": id (\S+) secret (\S+)/g)].map((m) => ({ name: m[1], id: m[2], secret: m[3] }));
  return { url, backoffice: { email: bo[1], password: bo[2] }, schoolAdmin: { email: sa[1], password: sa[2] }, devices };
}

/** The child running the compiled `script` (api/main.ts → dist/api/main.js). */
function supervisedChild(startPid: number, script: string): number | undefined {
  return childPids(startPid).find((pid) => commandLine(pid)?.includes(compiledEntry(script)));
}

const postmasterPidFile = () => path.join(dataDir, 'postgres', 'postmaster.pid');
const postmasterPid = () => Number(fs.readFileSync(postmasterPidFile(), 'utf8').split('\n')[0]);

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-start-'));
  port = await freePort();
});

afterAll(async () => {
  // After a failure: stop what is still running, the embedded database included.
  for (const proc of started) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
    proc.child.kill('SIGTERM');
    await proc.waitForExit(45_000).catch(() => {
      for (const pid of childPids(proc.pid)) process.kill(pid, 'SIGKILL');
      proc.child.kill('SIGKILL');
    });
  }
  if (fs.existsSync(postmasterPidFile())) {
    const pid = postmasterPid();
    if (isAlive(pid)) {
      process.kill(pid, 'SIGINT');
      await eventually(() => !isAlive(pid), 20_000, 'leftover PostgreSQL stopped').catch(() => undefined);
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

describe('npm start', () => {
  let first: Printed;
  let firstToken: string;

  test('creates an embedded database and demo data, prints working credentials, restarts a dead child, and stops cleanly on SIGTERM', async () => {
    const proc = start();
    first = await banner(proc);
    expect(first.url).toBe(`http://localhost:${port}`);
    expect(first.devices).toHaveLength(2);
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(fs.statSync(path.join(dataDir, 'credentials.json')).mode & 0o077).toBe(0);

    expect((await http(first.url, 'GET', '/healthz')).status).toBe(200);
    const login = await http(first.url, 'POST', '/api/auth/login', { body: first.backoffice });
    expect(login.status).toBe(200);
    firstToken = login.body.access_token;
    expect((await http(first.url, 'POST', '/api/auth/login', { body: first.schoolAdmin })).status).toBe(200);
    for (const device of first.devices) {
      const token = await http(first.url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: device.secret } });
      expect(token.status).toBe(200);
    }
    const schools = await http(first.url, 'GET', '/api/schools', { token: firstToken });
    expect(schools.body.items.map((s: { name: string }) => s.name)).toEqual(['Demo School']);
    // The app for schools, and the demo phone's enrolment link to open it with.
    const appLink = /App for schools: (\S+) — enrol "Teacher phone" by opening (\S+)/.exec(proc.stdout.join('\n'));
    expect(appLink?.[1]).toBe(`${first.url}/app/`);
    expect((await fetch(appLink![1])).status).toBe(200);
    const phone = first.devices.find((d) => d.name === 'Teacher phone')!;
    expect(parseEnrolUri(decodeURIComponent(new URL(appLink![2]).hash.replace(/^#enrol=/, '')))).toEqual({ server: first.url, deviceId: phone.id, secret: phone.secret });

    // The supervisor restarts a child that dies, whatever killed it.
    const apiPid = supervisedChild(proc.pid, 'api/main.ts');
    const workerPid = supervisedChild(proc.pid, 'worker/main.ts');
    expect(apiPid).toBeDefined();
    expect(workerPid).toBeDefined();
    const pgPid = postmasterPid();
    expect(isAlive(pgPid)).toBe(true);

    process.kill(apiPid!, 'SIGKILL');
    process.kill(workerPid!, 'SIGKILL');
    const newApi = await eventually(() => {
      const pid = supervisedChild(proc.pid, 'api/main.ts');
      return pid !== undefined && pid !== apiPid && pid;
    }, 30_000, 'a new api process');
    const newWorker = await eventually(() => {
      const pid = supervisedChild(proc.pid, 'worker/main.ts');
      return pid !== undefined && pid !== workerPid && pid;
    }, 30_000, 'a new worker process');
    await eventually(async () => (await http(first.url, 'GET', '/healthz').catch(() => null))?.status === 200, 30_000, 'healthz 200 after the restart');
    const deaths = proc.jsonLines().filter((l) => l.msg === 'process died: restarting');
    expect(deaths.map((l) => [l.process, l.signal]).sort()).toEqual([['api', 'SIGKILL'], ['worker', 'SIGKILL']]);

    proc.child.kill('SIGTERM');
    expect(await proc.waitForExit(45_000)).toEqual({ code: 0, signal: null });
    for (const pid of [newApi, newWorker, pgPid]) expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(postmasterPidFile())).toBe(false);
  }, 120_000);

  test('a second start finds the same data: same credentials, tokens still valid, no second demo school; Ctrl-C in a terminal stops it', async () => {
    expect(first).toBeDefined();
    const proc = start();
    const again = await banner(proc);
    expect(again.backoffice).toEqual(first.backoffice);
    expect(again.devices).toEqual(first.devices);
    expect(proc.stdout.join('\n')).not.toMatch(/creating the embedded PostgreSQL cluster/);

    // Signed with the JWT secret kept in DATA_DIR: a token from the first run still opens the api.
    const schools = await http(again.url, 'GET', '/api/schools', { token: firstToken });
    expect(schools.status).toBe(200);
    expect(schools.body.items).toHaveLength(1);
    expect((await http(again.url, 'POST', '/api/auth/login', { body: first.backoffice })).status).toBe(200);
    const device = first.devices[0];
    expect((await http(again.url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: device.secret } })).status).toBe(200);

    // A terminal sends SIGINT to the whole foreground job: the supervisor, and PostgreSQL too.
    const pgPid = postmasterPid();
    const children = [supervisedChild(proc.pid, 'api/main.ts')!, supervisedChild(proc.pid, 'worker/main.ts')!];
    interrupt(proc);
    expect(await proc.waitForExit(45_000)).toEqual({ code: 0, signal: null });
    for (const pid of [pgPid, ...children]) expect(isAlive(pid)).toBe(false);
    // Each child was stopped once, by the supervisor, and finished its shutdown.
    expect(proc.jsonLines().filter((l) => l.msg === 'second signal: exiting now')).toEqual([]);
    expect(fs.existsSync(postmasterPidFile())).toBe(false);
  }, 120_000);

  // Issue #33: an .ics import held the api's event loop for good and nothing noticed. SIGSTOP
  // holds it the same way, from outside: the port still accepts, nothing answers.
  test('an api that stops answering /healthz is killed and started again', async () => {
    const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-start-watchdog-'));
    let stuckPid: number | undefined;
    try {
      const proc = runScript('bin/start.ts', {
        DATABASE_URL: await createSuiteDatabase(), DATA_DIR: ownDir, PORT: String(port), LOG_LEVEL: 'warn',
        API_WATCHDOG_SECONDS: '2', API_WATCHDOG_FAILURES: '2',
      });
      started.push(proc);
      const printed = await banner(proc);
      stuckPid = supervisedChild(proc.pid, 'api/main.ts');
      expect(stuckPid).toBeDefined();
      // Answering: left alone (a probe every 2 s).
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(supervisedChild(proc.pid, 'api/main.ts')).toBe(stuckPid);

      process.kill(stuckPid!, 'SIGSTOP');
      const newApi = await eventually(() => {
        const pid = supervisedChild(proc.pid, 'api/main.ts');
        return pid !== undefined && pid !== stuckPid && pid;
      }, 30_000, 'a new api process');
      expect(isAlive(stuckPid!)).toBe(false);
      await eventually(async () => (await http(printed.url, 'GET', '/healthz').catch(() => null))?.status === 200, 30_000, 'healthz 200 from the new api');
      const lines = proc.jsonLines();
      expect(lines.filter((l) => l.msg === 'process not answering its health check: killing it')).toEqual([
        expect.objectContaining({ process: 'api', pid: stuckPid, failures: 2 }),
      ]);
      expect(lines.filter((l) => l.msg === 'process died: restarting').map((l) => [l.process, l.signal])).toEqual([['api', 'SIGKILL']]);

      proc.child.kill('SIGTERM');
      expect(await proc.waitForExit(45_000)).toEqual({ code: 0, signal: null });
      expect(isAlive(newApi)).toBe(false);
    } finally {
      if (stuckPid !== undefined && isAlive(stuckPid)) process.kill(stuckPid, 'SIGKILL');
      fs.rmSync(ownDir, { recursive: true, force: true });
    }
  }, 120_000);

  test('with DATABASE_URL no embedded database is started', async () => {
    const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-start-url-'));
    try {
      const proc = runScript('bin/start.ts', { DATABASE_URL: await createSuiteDatabase(), DATA_DIR: ownDir, PORT: String(port), LOG_LEVEL: 'warn' });
      started.push(proc);
      const printed = await banner(proc);
      expect(proc.stdout.join('\n')).toContain('Database: DATABASE_URL');
      expect(fs.existsSync(path.join(ownDir, 'postgres'))).toBe(false);
      expect(childPids(proc.pid).map((pid) => commandLine(pid) ?? '').filter((cmd) => cmd.includes('postgres'))).toEqual([]);
      expect((await http(printed.url, 'POST', '/api/auth/login', { body: printed.backoffice })).status).toBe(200);
      proc.child.kill('SIGTERM');
      expect(await proc.waitForExit(45_000)).toEqual({ code: 0, signal: null });
    } finally {
      fs.rmSync(ownDir, { recursive: true, force: true });
    }
  }, 120_000);
});
