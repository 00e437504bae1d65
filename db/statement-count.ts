// Every statement this process sends to PostgreSQL, counted at the pg client (kysely, pg-boss and
// LISTEN connections all go through pg.Client#query), as the Prometheus counter
// db_statements_total. The embedded PostgreSQL has no pg_stat_statements (it is not in
// shared_preload_libraries and not shipped), so the fleet bench reads this counter from the api
// and the worker to report statements per sync.
import pg from 'pg';
import { Counter } from 'prom-client';

const statements = new Counter({ name: 'db_statements_total', help: 'Statements this process sent to PostgreSQL (pg client queries, BEGIN/COMMIT included)' });

let installed = false;

/** Counts from now on; once per process (db/database.ts calls it). */
export function countStatements(): void {
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    statements.inc();
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}
