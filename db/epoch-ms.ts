// Instants sent to PostgreSQL as epoch milliseconds in bulk statements: node formats a number
// far faster than a Date (toISOString was 1.4 s of node CPU per 1,000,000-row import in bench
// ingest, issue #21) and PostgreSQL reads a bigint faster than timestamp text. Exact: epoch
// milliseconds stay below 2^53, so the float8 factor of bigint * interval loses nothing.
import { sql, type RawBuilder } from 'kysely';

/** The timestamptz of an epoch-milliseconds SQL expression (a column name); NULL stays NULL. */
export function fromEpochMs(expression: string): RawBuilder<Date> {
  return sql.raw(`(timestamptz 'epoch' + ${expression} * interval '1 millisecond')`);
}
