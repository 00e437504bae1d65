// `node dist/bin/healthcheck.js api|worker`: docker-compose.yml's healthcheck, which also restarts
// a process that stays unhealthy (Docker alone only marks the container "unhealthy").
//   api:    GET /healthz on this container's PORT answers 200 within 5 s;
//   worker: its heartbeat file (worker/main.ts: touched every 10 s after a database ping) is
//           younger than 60 s, so a hung event loop or a lost database connection shows.
// After HEALTHCHECK_RESTART_AFTER failures in a row (counted in a file beside the heartbeat) the
// process gets SIGTERM (a graceful stop), and SIGKILL on the next failure if it is still there;
// it exits, compose's `restart: unless-stopped` starts a new one. Linux only (reads /proc).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigOrExit } from '../shared/config.js';
import { WORKER_HEARTBEAT } from '../worker/heartbeat.js';
const HEARTBEAT_STALE_MS = 60_000;
const RESTART_AFTER = 5;
const ENTRY = { api: 'dist/api/main.js', worker: 'dist/worker/main.js' } as const;

async function healthy(role: keyof typeof ENTRY): Promise<boolean> {
  if (role === 'worker') {
    // The time the worker wrote in it, on the worker's clock: the file's mtime is the kernel's,
    // which a process whose clock is shifted (libfaketime, a test) would not agree with.
    let written: string;
    try {
      written = fs.readFileSync(WORKER_HEARTBEAT, 'utf8');
    } catch {
      return false; // no heartbeat yet
    }
    const beat = Number(written.trim() || NaN);
    return Number.isFinite(beat) && Math.abs(Date.now() - beat) < HEARTBEAT_STALE_MS;
  }
  const { port } = loadConfigOrExit();
  return fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
}

/** The process running `entry` whose parent is not one too (the api's cluster primary, not its children). */
function mainProcess(entry: string): number | null {
  const runs = new Map<number, number>(); // pid → parent pid
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith(entry))) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      runs.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone meanwhile */ }
  }
  for (const [pid, parent] of runs) if (!runs.has(parent)) return pid;
  return null;
}

const role = process.argv[2];
if (role !== 'api' && role !== 'worker') {
  process.stderr.write('usage: node dist/bin/healthcheck.js api|worker\n');
  process.exit(64);
}
const failuresFile = path.join(os.tmpdir(), `attendance-${role}.health-failures`);
if (await healthy(role)) {
  fs.rmSync(failuresFile, { force: true });
  process.exit(0);
}
const failures = Number(fs.readFileSync(failuresFile, { encoding: 'utf8', flag: 'a+' }) || '0') + 1;
fs.writeFileSync(failuresFile, String(failures));
if (failures >= RESTART_AFTER) {
  const pid = mainProcess(ENTRY[role]);
  const signal = failures > RESTART_AFTER ? 'SIGKILL' : 'SIGTERM';
  if (pid !== null) {
    process.stderr.write(`${role} unhealthy ${failures} times in a row: ${signal} to ${pid}\n`);
    process.kill(pid, signal);
  }
}
process.stderr.write(`${role} unhealthy (${failures} in a row)\n`);
process.exit(1);
