// One `npm start` per DATA_DIR: a second one would find the first's PostgreSQL, take it for
// one left by a crash, stop it, then fight over the port. The lock file names its owner
// (pid and URL); a start that finds a living owner refuses, one that finds a dead owner (a
// crash, a SIGKILL, a reboot) takes the lock over.
import { readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface LockOwner {
  pid: number;
  url: string;
  started_at: string;
}

export type LockResult = { acquired: true; release(): void; tookOverFrom: LockOwner | null } | { acquired: false; owner: LockOwner };

const LOCK_FILE = 'start.lock';

/**
 * Alive and still the program that wrote the lock: a pid is reused after a reboot, and a lock
 * kept in DATA_DIR outlives one. Where /proc tells the command, it must be node's.
 */
export function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false; // a zombie: exited
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node/i.test(command);
  } catch {
    return true; // no /proc (macOS): signal 0 is all there is
  }
}

async function readOwner(file: string): Promise<{ owner: LockOwner | null; text: string } | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return { owner: typeof owner?.pid === 'number' ? owner : null, text };
  } catch {
    return { owner: null, text }; // half-written by a start killed at that instant: stale
  }
}

export async function acquireDataDirLock(dataDir: string, url: string): Promise<LockResult> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const mine: LockOwner = { pid: process.pid, url, started_at: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      // 'wx': created only if absent, atomically; two starts cannot both create it.
      await fs.writeFile(file, text, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const found = await readOwner(file);
      if (found === null) continue; // released meanwhile: try again
      if (found.owner && ownerAlive(found.owner.pid)) return { acquired: false, owner: found.owner };
      // Stale. Remove it only if it is still the very file judged stale: another start may have
      // taken it over between the read and here (a narrow window; `confirm` below closes it).
      const again = await readOwner(file);
      if (again?.text === found.text) await fs.rm(file, { force: true });
      tookOverFrom = found.owner;
      continue;
    }
    // Two starts taking over the same stale lock: the one whose file survived wins.
    await new Promise((r) => setTimeout(r, 50));
    const check = await readOwner(file);
    if (check?.text !== text) {
      if (check?.owner && ownerAlive(check.owner.pid)) return { acquired: false, owner: check.owner };
      continue;
    }
    return {
      acquired: true,
      tookOverFrom,
      /** Synchronous, so that it can run in an `exit` handler. */
      release() {
        try {
          if (readFileSync(file, 'utf8') === text) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
  throw new Error(`could not take the lock ${file}: it keeps changing; is another start running?`);
}
