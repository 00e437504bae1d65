// Services as separate OS processes, run as production runs them (`node dist/api/main.js`,
// built by bench/run.ts), so that the load a scenario generates, or the memory it reads, is not
// mixed with the bench runner's own.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { nodeArgs, processEnv, PROJECT_ROOT } from '../runtime/compiled.js';
export { freePort } from '../runtime/free-port.js';

export interface Spawned {
  child: ChildProcess;
  pid: number;
  output: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `nodeFlags` go before the script's own V8 options (e.g. --cpu-prof). */
export function spawnScript(script: string, env: Record<string, string>, nodeFlags: readonly string[] = []): Spawned {
  const base = { ...process.env };
  for (const name of ['NODE_OPTIONS', 'DATABASE_URL', 'PORT', 'JWT_SECRET', 'LOG_LEVEL']) delete base[name];
  const child = spawn(process.execPath, [...nodeFlags, ...nodeArgs(script)], { cwd: PROJECT_ROOT, env: { ...processEnv(script), ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 5000) output.shift();
      for (const w of [...waiters]) if (w.pattern.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child, pid: child.pid!, output,
    waitFor(pattern, timeoutMs = 60_000) {
      if (output.some((l) => pattern.test(l))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no line matching ${pattern}\n${output.slice(-20).join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => { clearTimeout(timer); resolve(); } });
        void exited.then(() => { clearTimeout(timer); reject(new Error(`${script} exited\n${output.slice(-20).join('\n')}`)); });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}


/** Peak resident set size of a live process (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Polls `url` until it answers 200 (an api started with a quiet log level prints nothing). */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url).then(async (r) => { await r.arrayBuffer(); return r.status; }, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
