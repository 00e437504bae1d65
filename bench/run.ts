// `npm run bench [-- scenario…]`: each scenario on an embedded PostgreSQL of its own, printed
// as a table and merged into bench/results.json. Loads are bounded and target loopback only.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { createLogger } from '../shared/logger.js';
import { ensureServerBuilt } from '../tools/build.js';
import { loadAverage, makeContext, sourceRevision, writeResults, type BenchContext, type ScenarioResult } from './harness.js';
import { PROJECT_ROOT } from '../runtime/compiled.js';
import { acceptScenario } from './scenarios/accept.js';
import { datamartScenario } from './scenarios/datamart.js';
import { figuresScenario } from './scenarios/figures.js';
import { fleetScenario } from './scenarios/fleet.js';
import { ingestScenario } from './scenarios/ingest.js';
import { memoryScenario } from './scenarios/memory.js';
import { partitionsScenario } from './scenarios/partitions.js';
import { pushScenario } from './scenarios/push.js';
import { refusalsScenario } from './scenarios/refusals.js';
import { sondesScenario } from './scenarios/sondes.js';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  ingest: ingestScenario,
  accept: acceptScenario,
  memory: memoryScenario,
  fleet: fleetScenario,
  figures: figuresScenario,
  datamart: datamartScenario,
  sondes: sondesScenario,
  push: pushScenario,
  refusals: refusalsScenario,
  partitions: partitionsScenario,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in SCENARIOS));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}\n`);
  process.exit(64);
}
const names = wanted.length ? wanted : Object.keys(SCENARIOS);
await ensureServerBuilt(); // scenarios spawn the compiled api and worker (bench/spawn.ts)
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-bench-'));
// `--statements`: PostgreSQL records what each statement costs (pg_stat_statements), which the
// fleet scenario reports per sync; off by default, since recording costs a little itself.
const STATEMENT_SETTINGS = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top', 'pg_stat_statements.track_utility': 'on', 'pg_stat_statements.track_planning': 'on' };
const pg = await startEmbeddedPostgres(dataDir, createLogger('bench', 'warn'), process.argv.includes('--statements') ? { settings: STATEMENT_SETTINGS } : {});
const results: Record<string, ScenarioResult> = {};
try {
  const ctx = makeContext(pg, dataDir);
  for (const name of names) {
    process.stderr.write(`${name}\n`);
    const started = new Date();
    const loadStart = loadAverage();
    const result = await SCENARIOS[name](ctx);
    results[name] = {
      ...result,
      conditions: { ...sourceRevision(PROJECT_ROOT), started_at: started.toISOString(), seconds: Math.round((Date.now() - started.getTime()) / 1000),
        cpus: os.availableParallelism(), load_average_start: loadStart, load_average_end: loadAverage() },
    };
  }
} finally {
  await pg.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
await writeResults(file, results);
for (const [name, r] of Object.entries(results)) {
  process.stdout.write(`\n${name}${r.goal ? `  (goal: ${r.goal} → ${r.met ? 'met' : 'NOT met'})` : ''}\n`);
  const others = [['anchor', r.anchor], ['floor', r.floor]] as const;
  const beside = (k: string) => others.filter(([, o]) => o?.[k] !== undefined).map(([label, o]) => `  ${label} ${o![k]}`).join('');
  const rows = Object.entries(r.figures).map(([k, v]) => [k, String(v), beside(k)]);
  const w = Math.max(...rows.map((x) => x[0].length));
  for (const [k, v, a] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v.padStart(12)}${a}\n`);
  if (r.ratio !== undefined) process.stdout.write(`  ratio ${r.ratio}\n`);
  if (r.notes) process.stdout.write(`  ${r.notes}\n`);
  if (r.conditions) {
    const c = r.conditions;
    process.stdout.write(`  commit ${c.commit}${c.dirty ? ' (with uncommitted changes)' : ''}, ${c.seconds} s, load average ${c.load_average_start} → ${c.load_average_end} on ${c.cpus} cores\n`);
  }
}
process.stdout.write(`\nwritten to ${path.relative(process.cwd(), file)}\n`);
