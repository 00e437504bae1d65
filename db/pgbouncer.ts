// A PgBouncer in transaction mode in front of a PostgreSQL server, for tests and benchmarks
// (`TEST_POOLER=1 npm test`, `npm run bench -- fleet --pooler`): Debian's `pgbouncer` (1.18),
// installed by tools/test-deps.sh. Every database of the server is reached through it under its
// own name (the `*` entry), with the same user and password as directly. Production runs its own
// pooler; docs/scaling-pooler-replica.md says how it is set up.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../runtime/free-port.js';

export interface PgBouncer {
  port: number;
  pid: number;
  /** `url` (a database on the server) as reached through the pooler. */
  pooled(url: string): string;
  /** `url` (pooled or not) as reached directly. */
  direct(url: string): string;
  /** Rows of the admin console's SHOW POOLS (database, cl_active, sv_active, sv_idle …). */
  pools(): Promise<Array<Record<string, string | number>>>;
  stop(): Promise<void>;
}

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;

async function waitForPort(port: number, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${await log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port} within 10 s: ${await log()}`);
}

/**
 * Starts PgBouncer in `dir` in front of the server of `serverUrl` (any database of it).
 * `poolSize`: server connections per database and user; `maxServerConnections`: in all (kept
 * below the server's max_connections, which the direct connections share).
 */
export async function startPgBouncer(serverUrl: string, dir: string, opts: { poolSize?: number; maxServerConnections?: number } = {}): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  await fs.mkdir(dir, { recursive: true });
  const ini = path.join(dir, 'pgbouncer.ini');
  const logfile = path.join(dir, 'pgbouncer.log');
  await fs.writeFile(path.join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  await fs.writeFile(ini, [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    `admin_users = ${user}`,
    'pool_mode = transaction',
    'max_client_conn = 5000',
    `default_pool_size = ${opts.poolSize ?? 20}`,
    `max_user_connections = ${opts.maxServerConnections ?? 120}`,
    // Suites and benches each use a database of their own: idle server connections of a finished
    // one are closed soon, so they do not hold the server's max_connections.
    'server_idle_timeout = 5',
    'server_lifetime = 3600',
    'autodb_idle_timeout = 30',
    // pg sends none of these today; harmless if a client does.
    'ignore_startup_parameters = extra_float_digits,options',
    `logfile = ${logfile}`,
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n'));
  // PgBouncer refuses to run as root: as root it runs as `postgres`, as the embedded PostgreSQL does.
  const root = process.getuid?.() === 0;
  if (root) {
    const { execFileSync } = await import('node:child_process');
    execFileSync('chown', ['-R', 'postgres', dir]);
    await fs.chmod(dir, 0o755);
  }
  const child = spawn(PGBOUNCER_BIN, [...(root ? ['-u', 'postgres'] : []), ini], { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`pgbouncer could not start (${err.message}): install Debian's pgbouncer (tools/test-deps.sh)`))));
  const log = () => fs.readFile(logfile, 'utf8').then((s) => s.slice(-2000), () => '');
  await Promise.race([waitForPort(port, child, log), spawnError]);
  child.unref(); // whoever started it stops it; it does not keep a finished run alive

  const withPort = (url: string, p: number) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(p);
    return u.toString();
  };
  const serverPort = Number(server.port || 5432);
  return {
    port,
    pid: child.pid!,
    pooled: (url) => withPort(url, port),
    direct: (url) => (new URL(url).port === String(port) ? withPort(url, serverPort) : url),
    async pools() {
      const admin = new URL(withPort(serverUrl, port));
      admin.pathname = '/pgbouncer';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        // The admin console speaks the simple protocol only: a query without parameters.
        return (await client.query('SHOW POOLS')).rows as Array<Record<string, string | number>>;
      } finally {
        await client.end();
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM'); // immediate shutdown (SIGINT waits for every client to leave)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
