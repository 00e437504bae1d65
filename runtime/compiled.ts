// Where the compiled server and the built dashboard live, and how node runs the server. Every process (`npm start`, `api`,
// `worker`, `migrate`, `simulate`) runs as plain JavaScript from dist/, which mirrors the
// sources (worker/main.ts → dist/worker/main.js); tools/build.ts writes it. `nodeArgs` is what
// package.json's scripts spell out (test/foundation/scripts.test.ts holds them to it), for
// bin/start.ts and the tests and benches that spawn processes. This module works from either place.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function projectRoot(): string {
  // runtime/ in the sources, dist/runtime/ once compiled: the first folder up holding package.json.
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('no package.json above runtime/compiled');
  }
}

export const PROJECT_ROOT = projectRoot();
export const COMPILED_DIR = path.join(PROJECT_ROOT, 'dist');
/** The built dashboard: web/build.ts writes it, the api serves it (api/dashboard.ts), never the other way. */
export const DASHBOARD_DIR = path.join(PROJECT_ROOT, 'web', 'dist');
/** The built reference app for schools (app/build.ts writes it, the api serves it at /app/: api/mobile-app.ts). */
export const MOBILE_APP_DIR = path.join(PROJECT_ROOT, 'app', 'dist');

/**
 * V8 options per entry point. The worker's old generation grows by at most 50% of what
 * survived the last full collection (V8's default factor goes up to 4×): an import promotes
 * each chunk's short-lived rows to the old generation, and with the default factor that
 * garbage made most of the peak (bench `memory`, compiled worker, ~40 MiB live: 1,000,000
 * rows 251 → 164 MiB peak, 100,000 rows 184 → 142 MiB; GC time of the 1,000,000-row import
 * 4.0 s → 3.8 s, more full collections but fewer scavenges). The young generation is held
 * at Node 20's size: Node 24's V8 lets each semi-space grow to 64 MiB without pointer
 * compression (--scavenger-max-new-space-capacity-mb=32, doubled), which alone took the peak
 * from 145/157 to 254/279 MiB (100,000 / 1,000,000 rows); with 16 MiB: 156/187 MiB (bench
 * `memory`, 2026-12-03). Below that, more promotion raised the 1,000,000-row peak on Node 20.
 */
const NODE_OPTIONS: Record<string, readonly string[]> = {
  'worker/main.ts': ['--heap-growing-percent=50', '--max-semi-space-size=16'],
};

/**
 * Environment defaults per entry point, for the C library: glibc gives each thread that
 * allocates its own malloc arena (V8's compiler and GC threads, libuv's pool), and memory freed
 * in one stays resident. The worker's peak after a 1,000,000-row import: 179–192 MiB in six
 * runs with two arenas against 174–203 with the default (bench `memory`, issue #31), the
 * 100,000-row peak steadier too. An operator's own setting wins (bin/start.ts, bench/spawn.ts).
 */
const PROCESS_ENV: Record<string, Readonly<Record<string, string>>> = {
  'worker/main.ts': { MALLOC_ARENA_MAX: '2' },
};

/** The environment defaults an entry point runs with (see PROCESS_ENV). */
export function processEnv(source: string): Readonly<Record<string, string>> {
  return PROCESS_ENV[source] ?? {};
}

/** The compiled file of a source entry point, e.g. `worker/main.ts` → `<root>/dist/worker/main.js`. */
export function compiledEntry(source: string): string {
  if (!source.endsWith('.ts') || path.isAbsolute(source)) throw new Error(`not a source entry point: ${source}`);
  return path.join(COMPILED_DIR, source.replace(/\.ts$/, '.js'));
}

/** `node`'s arguments for a source entry point: its V8 options, then its compiled file. */
export function nodeArgs(source: string): string[] {
  return [...(NODE_OPTIONS[source] ?? []), compiledEntry(source)];
}
