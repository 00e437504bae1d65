// Real processes for tests: a script's compiled file run as production runs it (`node
// dist/worker/main.js`, built by the global setup), with a controlled environment, its output
// collected line by line, and helpers to wait for a line, an exit or a port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { nodeArgs, PROJECT_ROOT } from '../../runtime/compiled.js';
import { directUrl } from './database.js';
export { freePort } from '../../runtime/free-port.js';

export const ROOT = PROJECT_ROOT;

/** The variables a test process must not inherit from the runner (jest's NODE_OPTIONS, a DATABASE_URL…). */
const SCRUBBED = ['NODE_OPTIONS', 'DATABASE_URL', 'DATABASE_DIRECT_URL', 'DATABASE_REPLICA_URL', 'DATA_DIR', 'PORT', 'HOST', 'JWT_SECRET', 'NODE_ENV', 'LOG_LEVEL', 'DEMO_DATA',
  'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'API_PROCESSES', 'TEST_ADMIN_DATABASE_URL'];

export interface RunningProcess {
  child: ChildProcess;
  pid: number;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout or stderr line matching, or rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Parsed JSON lines of stdout (pino logs); other lines are skipped. */
  jsonLines(): Array<Record<string, any>>;
}

/** `node [options] dist/<script>.js` for a source `<script>.ts`, as its npm script runs it. `detached`: the process leads a process group of its own, as a shell job does (see `interrupt`). */
export function runScript(script: string, env: Record<string, string | undefined>, opts: { args?: string[]; detached?: boolean } = {}): RunningProcess {
  return runCommand(process.execPath, [...nodeArgs(script), ...(opts.args ?? [])], env, opts);
}

export function runCommand(command: string, args: string[], env: Record<string, string | undefined>, opts: { detached?: boolean; cwd?: string } = {}): RunningProcess {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete base[name];
  // Under TEST_POOLER=1 a suite database's URL goes through PgBouncer: the process is told the way past it too.
  if (env.DATABASE_URL && !('DATABASE_DIRECT_URL' in env) && directUrl(env.DATABASE_URL) !== env.DATABASE_URL) {
    env = { ...env, DATABASE_DIRECT_URL: directUrl(env.DATABASE_URL) };
  }
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false,
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const collect = (stream: NodeJS.ReadableStream, into: string[]) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        into.push(line);
        for (const w of waiters) if (w.pattern.test(line)) { waiters.delete(w); w.resolve(line); }
      }
    });
    stream.on('end', () => { if (rest) into.push(rest); });
  };
  collect(child.stdout!, stdout);
  collect(child.stderr!, stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const describe = () => `\n--- stdout ---\n${stdout.slice(-40).join('\n')}\n--- stderr ---\n${stderr.slice(-40).join('\n')}`;

  return {
    child,
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    waitForLine(pattern, timeoutMs = 60_000) {
      const found = [...stdout, ...stderr].find((line) => pattern.test(line));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve: (line: string) => { clearTimeout(timer); resolve(line); } };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms${describe()}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(({ code, signal }) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`process exited (${code ?? signal}) before a line matching ${pattern}${describe()}`));
        });
      });
    },
    waitForExit(timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${timeoutMs} ms${describe()}`)), timeoutMs);
        void exited.then((result) => { clearTimeout(timer); resolve(result); });
      });
    },
    jsonLines() {
      return stdout.flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, any>];
        } catch {
          return [];
        }
      });
    },
  };
}

/** What a terminal's Ctrl-C does: SIGINT to every process of the job's group (needs `detached`). */
export function interrupt(proc: RunningProcess): void {
  process.kill(-proc.pid, 'SIGINT');
}

/** Kills a process this test started if it is still running (cleanup after a failure). */
export async function killIfRunning(proc: RunningProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  await proc.exited;
}


/** Direct children of `pid`, read from /proc (no `ps` needed on slim images). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

/** The command line of a running process, or null once it is gone (or a zombie). */
export function commandLine(pid: number): string | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text ? text.split('\0').join(' ').trim() : null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; its state letter is Z.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** GET on a fresh connection (no keep-alive), so that node:cluster may hand it to any process. */
export async function getStatus(url: string): Promise<number> {
  const res = await fetch(url, { headers: { connection: 'close' } }).catch(() => null);
  if (!res) return 0;
  await res.arrayBuffer();
  return res.status;
}
