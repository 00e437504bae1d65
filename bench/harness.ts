// What every benchmark scenario gets: its own embedded PostgreSQL database, helpers to start
// the real api and worker on it, and timing statistics.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApi, type RunningApi } from '../api/server.js';
import { connectDatabase, type DatabaseHandle } from '../db/database.js';
import { ensureDatabase, type EmbeddedDatabase } from '../db/embedded.js';
import { prepareDatabase } from '../db/setup.js';
import { envToConfig, type Config, type Env } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { startWorker, type RunningWorker } from '../worker/worker.js';

export interface ScenarioResult {
  /** The scenario's own figures. */
  figures: Record<string, number | string>;
  /** The anchor measured in the same run, when the scenario has one. */
  anchor?: Record<string, number | string>;
  /** A second anchor, when the scenario has one: the least the protocol requires, done with the product's own functions. */
  floor?: Record<string, number | string>;
  ratio?: number;
  goal?: string;
  met?: boolean;
  notes?: string;
  /** Where and when it ran: filled by bench/run.ts, so a figure can be traced to its code and its machine. */
  conditions?: RunConditions;
}

export interface RunConditions {
  commit: string;
  /** Uncommitted changes under the sources when it ran. */
  dirty: boolean;
  started_at: string;
  seconds: number;
  cpus: number;
  /** 1-minute load average when the scenario started and when it ended: above the core count, something else was running. */
  load_average_start: number;
  load_average_end: number;
}

/** The commit the bench runs (and whether the tree differs from it), for results.json. */
export function sourceRevision(root: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results.json'], { cwd: root, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

export const loadAverage = (): number => Math.round(os.loadavg()[0] * 100) / 100;

/** `--rounds=N` (default 3): how many times a scenario alternates the product and its anchor. */
export function roundsOption(argv: readonly string[] = process.argv, fallback = 3): number {
  const arg = argv.find((a) => a.startsWith('--rounds='));
  if (!arg) return fallback;
  const n = Number(arg.slice('--rounds='.length));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds: a whole number of at least 1, got ${arg}`);
  return n;
}

/** Lowest, median and highest of a figure measured once per round, e.g. "0.61 (0.58–0.64, 3 rounds)". */
export function spread(values: readonly number[], digits = 2): { median: number; min: number; max: number; text: string } {
  const s = [...values].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const r = (v: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  return { median: r(median), min: r(s[0]), max: r(s[s.length - 1]), text: `${r(median)} (${r(s[0])}–${r(s[s.length - 1])}, ${s.length} round${s.length === 1 ? '' : 's'})` };
}

export interface BenchContext {
  pg: EmbeddedDatabase;
  dataDir: string;
  logger: Logger;
  /** A fresh, migrated database for the scenario; `env` adjusts its services' config. */
  database(name: string, env?: Env): Promise<{ url: string; handle: DatabaseHandle; config: Config }>;
  api(config: Config, url: string): Promise<RunningApi>;
  worker(config: Config, url: string): Promise<RunningWorker>;
  progress(message: string): void;
}

export function benchConfig(dataDir: string, env: Env = {}): Config {
  return envToConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789', LOG_LEVEL: 'silent', ...env });
}

export function makeContext(pg: EmbeddedDatabase, dataDir: string): BenchContext {
  const logger = createLogger('bench', 'silent');
  return {
    pg, dataDir, logger,
    async database(name, env) {
      const url = await ensureDatabase(pg.url, `bench_${name}`);
      const config = benchConfig(dataDir, env);
      await prepareDatabase(config, url, logger);
      return { url, config, handle: connectDatabase(url, { max: 8, logger, applicationName: 'bench' }) };
    },
    api: (config, url) => startApi(config, url, logger),
    worker: (config, url) => startWorker(config, url, logger),
    progress: (message) => process.stderr.write(`  … ${message}\n`),
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function stats(samplesMs: number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s[s.length - 1]) };
}

export async function writeResults(file: string, results: Record<string, ScenarioResult>): Promise<void> {
  const previous = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify({ ...previous, ...results, measured_at: new Date().toISOString() }, null, 2)}\n`);
}
