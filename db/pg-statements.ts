// What this process sends to PostgreSQL, at the pg client (kysely, pg-boss and LISTEN
// connections all go through pg.Client#query):
// - counted, as the Prometheus counter db_statements_total. The embedded PostgreSQL has no
//   pg_stat_statements (it is not in shared_preload_libraries and not shipped), so the fleet
//   bench reads this counter from the api and the worker to report statements per sync;
// - prepared, once `prepareRepeatedStatements()` was called (the api and the worker do): a
//   parameterized statement whose text this process has sent before is sent as a named
//   prepared statement, so each connection parses and analyses it once instead of every time.
//   In the fleet bench, PostgreSQL's CPU went mostly to parsing and planning (base_yyparse,
//   catalog cache, expression walkers at the top of `perf`), for the same few dozen texts
//   (kysely's compiled queries, pg-boss's fetch/insert/complete). Texts seen only once (a
//   query built with literal values) stay unnamed; the set of texts is bounded. Not for a
//   pooler in transaction mode (PgBouncer < 1.21), where a connection's statements are not its own:
//   with DATABASE_DIRECT_URL set the api and the worker do not call it (docs/scaling-pooler-replica.md).
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Counter } from 'prom-client';

const statements = new Counter({ name: 'db_statements_total', help: 'Statements this process sent to PostgreSQL (pg client queries, BEGIN/COMMIT included)' });

/** Texts seen once (candidates) and texts prepared (with their statement name), bounded. */
const MAX_TEXTS = 2_000;
const seenOnce = new Set<string>();
const names = new Map<string, string>();
let preparing = false;
let installed = false;

/** Prepares repeated parameterized statements from now on (see above). */
export function prepareRepeatedStatements(): void {
  countStatements();
  preparing = true;
}

function statementName(text: string): string | null {
  const known = names.get(text);
  if (known) return known;
  if (!seenOnce.has(text)) {
    if (seenOnce.size >= MAX_TEXTS) seenOnce.clear();
    seenOnce.add(text);
    return null;
  }
  if (names.size >= MAX_TEXTS) return null; // a bounded set: the rest stays unnamed
  seenOnce.delete(text);
  const name = `s${createHash('sha1').update(text).digest('base64url')}`;
  names.set(text, name);
  return name;
}

/** Counts from now on; once per process (db/database.ts calls it). */
export function countStatements(): void {
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    statements.inc();
    const [text, values] = args;
    if (preparing && typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      const name = statementName(text);
      if (name) return query.apply(this, [{ name, text, values }, ...args.slice(2)]);
    }
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}
