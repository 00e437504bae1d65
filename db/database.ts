// The connection: a pg pool and a typed kysely instance over it. int8 ids and numerics come
// back as JS numbers (ids stay below 2^53; record ids above it are rejected at the edge),
// dates as 'YYYY-MM-DD' strings: calendar days never pass through a JS Date.
import { Kysely, PostgresDialect, sql, type DatabaseConnection, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from '../shared/logger.js';
import type { Database } from './schema/index.js';
import { countStatements } from './pg-statements.js';

export type { Database };
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
/** A function that accepts either runs its queries on whatever it is given. */
export type DbOrTrx = Db | Trx;

/** One round trip: throws when the database does not answer (readiness). */
export async function ping(db: DbOrTrx): Promise<void> {
  await sql`SELECT 1`.execute(db);
}

countStatements();

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function connectDatabase(url: string, opts: {
  max: number; logger: Logger; applicationName: string;
  /** Give up connecting after this long (a replica that may be gone); default: wait as long as the network does. */
  connectionTimeoutMillis?: number;
  /** Runs once on every new connection before its first use (the worker makes its import stage there). */
  onConnect?: (connection: DatabaseConnection) => Promise<void>;
}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: opts.max, application_name: opts.applicationName, connectionTimeoutMillis: opts.connectionTimeoutMillis });
  // A client losing its connection (a database restart, pg_terminate_backend) must not kill the
  // process. The pool listens only while a client is idle; one checked out with no query running
  // (a transaction awaiting the next step) would emit 'error' to nobody: an uncaught exception.
  // Its next query fails instead ("not queryable", a 503), and the pool drops it on release.
  pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'idle database connection lost'));
  pool.on('connect', (client) => {
    client.on('error', (err) => opts.logger.warn({ err: err.message }, 'database connection lost'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, onCreateConnection: opts.onConnect }) });
  return {
    db,
    pool,
    close: () => db.destroy(),
  };
}
