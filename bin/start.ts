// `npm start`: everything on one machine. Without DATABASE_URL an embedded PostgreSQL runs in
// DATA_DIR (kept between runs); migrations run; start-up accounts and demo data are created;
// then the api and the worker run as child processes, each restarted with backoff if it dies,
// and the api also when it stops answering /healthz (API_WATCHDOG_SECONDS, _FAILURES).
// Ctrl-C stops the children, then the embedded database.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveJwtSecret } from '../api/auth/jwt-secret.js';
import { createDemoData, ensureAdmin, type DemoData } from '../db/startup/bootstrap.js';
import { connectDatabase } from '../db/database.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { countBackoffice, insertStaff } from '../db/repositories/staff.js';
import { prepareDatabase } from '../db/setup.js';
import { hashPassword } from '../shared/auth/password.js';
import { enrolUri } from '../shared/devices/enrol-uri.js';
import { nodeArgs, processEnv, PROJECT_ROOT } from '../runtime/compiled.js';
import { loadConfigOrExit, type Config } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { backoffMs, installCrashHandlers, onShutdown, sleep } from '../runtime/process.js';
import { VERSION } from '../shared/version.js';
import { acquireDataDirLock } from './data-dir-lock.js';

const config = loadConfigOrExit();
const logger = createLogger('start', config.logLevel, config.logFormat);
installCrashHandlers(logger);

const url = `http://localhost:${config.port}`;
// Before anything touches DATA_DIR: its PostgreSQL, credentials and secret belong to one start.
const lock = await acquireDataDirLock(config.dataDir, url);
if (!lock.acquired) {
  process.stderr.write(`npm start is already running on ${config.dataDir} (pid ${lock.owner.pid}, ${lock.owner.url}): use it, stop it first, or set another DATA_DIR\n`);
  process.exit(1);
}
process.on('exit', () => lock.release());
if (lock.tookOverFrom) logger.warn({ pid: lock.tookOverFrom.pid }, 'taking over the lock of an earlier start that is no longer running');

interface Credentials {
  backoffice?: { email: string; password: string };
  demo?: DemoData;
  /** Outside production with no METRICS_TOKEN: generated once, for GET /metrics. */
  metrics_token?: string;
}

async function readCredentials(file: string): Promise<Credentials> {
  return JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Credentials;
}

/** Outside production with no ADMIN_EMAIL, a backoffice account is generated once and its password kept in DATA_DIR. */
async function bootstrap(cfg: Config, url: string): Promise<Credentials> {
  const file = path.join(cfg.dataDir, 'credentials.json');
  const saved = await readCredentials(file);
  const database = connectDatabase(url, { max: 2, logger, applicationName: 'attendance-start' });
  try {
    const created = await ensureAdmin(database.db, cfg);
    if (created) logger.info({ email: created }, 'backoffice account created from ADMIN_EMAIL');
    if (!cfg.adminEmail && cfg.nodeEnv !== 'production' && (await countBackoffice(database.db)) === 0) {
      saved.backoffice = { email: 'backoffice@localhost.test', password: randomBytes(9).toString('base64url') };
      await insertStaff(database.db, { email: saved.backoffice.email, password_hash: await hashPassword(saved.backoffice.password), role: 'backoffice', school_id: null, name: 'Backoffice' });
    }
    if (!cfg.metricsToken && cfg.nodeEnv !== 'production') saved.metrics_token ??= randomBytes(24).toString('base64url');
    if (cfg.demoData) {
      const demo = await createDemoData(database.db, { demoAdminPassword: randomBytes(9).toString('base64url') });
      if (demo) saved.demo = demo;
    }
    await fs.writeFile(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
    return saved;
  } finally {
    await database.close();
  }
}

/** How the supervisor tells a child that is alive but stuck (its event loop held: issue #33). */
interface Watchdog {
  /** Any HTTP answer counts, a 503 too: that api is alive, its database is what is down. */
  url: string;
  /** Between probes, and how long one waits for its answer. */
  intervalMs: number;
  /** Probes in a row without an answer before the child is killed (and so restarted). */
  failures: number;
}

class Supervised {
  private child: ChildProcess | null = null;
  private stopping = false;
  private crashes = 0;

  constructor(private readonly name: string, private readonly script: string, private readonly env: NodeJS.ProcessEnv, private readonly log: Logger, private readonly watchdog: Watchdog | null = null) {}

  start(): void {
    const startedAt = Date.now();
    // A process group of its own: a terminal's Ctrl-C reaches only this supervisor, which then
    // stops each child once (a second signal would make the child exit without finishing its work).
    // The compiled file, as `npm run api` / `npm run worker` run it.
    // The IPC channel only tells the child when this supervisor is gone (runtime/process.ts stopWithSupervisor).
    this.child = spawn(process.execPath, nodeArgs(this.script), { env: { ...processEnv(this.script), ...this.env }, stdio: ['inherit', 'inherit', 'inherit', 'ipc'], cwd: PROJECT_ROOT, detached: true });
    this.child.on('exit', (code, signal) => {
      this.child = null;
      if (this.stopping) return;
      this.crashes = Date.now() - startedAt > 60_000 ? 1 : this.crashes + 1;
      const delay = backoffMs(this.crashes);
      this.log.error({ process: this.name, code, signal, restartInMs: delay }, 'process died: restarting');
      setTimeout(() => { if (!this.stopping) this.start(); }, delay);
    });
    if (this.watchdog) this.watch(this.child, this.watchdog);
  }

  /**
   * Probes the child's health endpoint once it has answered a first time (a child that cannot
   * start exits, or is restarted for it: a wrong probe address must not kill a working api).
   * A child whose event loop is held answers nothing: after `failures` probes in a row its
   * process group (the api's cluster workers too) gets SIGKILL, the one signal it cannot
   * ignore while stuck, and the exit handler restarts it.
   */
  private watch(child: ChildProcess, { url, intervalMs, failures: limit }: Watchdog): void {
    let answered = false;
    let failures = 0;
    let timer: NodeJS.Timeout | undefined;
    const probe = async (): Promise<void> => {
      const ok = await fetch(url, { signal: AbortSignal.timeout(intervalMs) }).then(async (res) => {
        await res.body?.cancel();
        return true;
      }, () => false);
      if (this.child !== child || this.stopping) return;
      if (ok) {
        answered = true;
        failures = 0;
      } else if (answered && ++failures >= limit) {
        this.log.error({ process: this.name, pid: child.pid, url, failures, waitedMs: failures * intervalMs }, 'process not answering its health check: killing it');
        try {
          process.kill(-child.pid!, 'SIGKILL'); // its own process group (detached)
        } catch {
          child.kill('SIGKILL');
        }
        return;
      }
      timer = setTimeout(() => void probe(), intervalMs);
    };
    timer = setTimeout(() => void probe(), intervalMs);
    child.once('exit', () => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    });
  }
}

/** Where the api answers on this machine: HOST, or loopback when it listens on every interface. */
function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function waitHealthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return true;
    await sleep(200);
  }
  return false;
}

let embedded: EmbeddedDatabase | null = null;
let databaseUrl = config.databaseUrl;
if (!databaseUrl) {
  embedded = await startEmbeddedPostgres(config.dataDir, logger);
  databaseUrl = await ensureDatabase(embedded.url, 'attendance');
  logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
}
const children: Supervised[] = [];
onShutdown(logger, async () => {
  await Promise.all(children.map((c) => c.stop()));
  await embedded?.stop();
}, 40_000);

const applied = await prepareDatabase(config, config.databaseDirectUrl ?? databaseUrl, logger);
if (applied.length) logger.info({ applied }, 'migrations applied');
await resolveJwtSecret(config); // created once here, before several processes could race for it
const credentials = await bootstrap(config, databaseUrl);

const metricsToken = config.metricsToken ?? credentials.metrics_token;
const childEnv = { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: config.dataDir, ...(metricsToken && { METRICS_TOKEN: metricsToken }) };
// PORT=0 (any free port): the supervisor does not know where the api listens, so it cannot ask.
const watchdog = config.apiWatchdogSeconds > 0 && config.port !== 0
  ? { url: `http://${probeHost(config.host)}:${config.port}/healthz`, intervalMs: config.apiWatchdogSeconds * 1000, failures: config.apiWatchdogFailures }
  : null;
children.push(new Supervised('api', 'api/main.ts', childEnv, logger, watchdog), new Supervised('worker', 'worker/main.ts', childEnv, logger));
for (const child of children) child.start();

const healthy = await waitHealthy(`http://127.0.0.1:${config.port}`, 30_000);
const lines = [
  '',
  `  Attendance sync service ${healthy ? 'running' : 'starting (not healthy yet)'} at ${url}`,
  `  Version: ${VERSION} (CHANGELOG.md)`,
  `  API documentation: ${url}/api/docs`,
  embedded ? `  Embedded PostgreSQL data: ${path.join(config.dataDir, 'postgres')}` : '  Database: DATABASE_URL',
];
if (metricsToken) lines.push(`  Metrics (Prometheus): curl -H 'Authorization: Bearer ${config.metricsToken ? '$METRICS_TOKEN' : metricsToken}' ${url}/metrics`);
if (config.adminEmail) lines.push(`  Backoffice login: ${config.adminEmail} (ADMIN_PASSWORD)`);
else if (credentials.backoffice) lines.push(`  Backoffice login: ${credentials.backoffice.email} / ${credentials.backoffice.password}`);
if (credentials.demo) {
  const d = credentials.demo;
  lines.push(`  Demo school: "${d.school.name}" (id ${d.school.id}), ${d.users} users`);
  lines.push(`  School admin login: ${d.schoolAdmin.email} / ${d.schoolAdmin.password}`);
  for (const dev of d.devices) lines.push(`  Device "${dev.name}": id ${dev.id} secret ${dev.secret}`);
  // The reference app (app/, README "The app for schools"), with the demo phone's enrolment link in the address: one click enrols it.
  const phone = d.devices.find((dev) => dev.name === 'Teacher phone');
  if (phone) lines.push(`  App for schools: ${url}/app/ — enrol "Teacher phone" by opening ${url}/app/#enrol=${encodeURIComponent(enrolUri(url, phone.id, phone.secret))}`);
}
lines.push(`  Credentials are kept in ${path.join(config.dataDir, 'credentials.json')}. Ctrl-C stops everything.`, '');
process.stdout.write(`${lines.join('\n')}\n`);
