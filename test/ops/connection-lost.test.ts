// A connection the database drops while a transaction holds it between two statements (a
// restart, a failover, pg_terminate_backend): the transaction fails as "database unavailable"
// (503 to a client), the process lives on, and the pool serves the next request on a new
// connection. Before, the dropped client emitted 'error' to no listener: an uncaught exception
// that ended the api or the worker (issue 33 §6).
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectDatabase } from '../../db/database.js';
import { isDatabaseUnavailable } from '../../api/http/pg-errors.js';
import { createLogger } from '../../shared/logger.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();

test('a connection terminated in the middle of a transaction fails that transaction only', async () => {
  const handle = connectDatabase(suite.databaseUrl, { max: 2, logger: createLogger('test', 'silent'), applicationName: 'connection-lost-test' });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.prependListener('uncaughtException', onUncaught);
  try {
    const outcome = await handle.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      // Another session ends this one while the transaction waits between statements.
      await sql`SELECT pg_terminate_backend(${rows[0].pid})`.execute(suite.db);
      await new Promise((r) => setTimeout(r, 300));
      return sql`SELECT 1`.execute(trx);
    }).then(() => 'committed', (err: unknown) => err);
    expect(outcome).not.toBe('committed');
    expect(isDatabaseUnavailable(outcome)).toBe(true);
    expect(uncaught).toEqual([]);
    // The next unit of work gets a sound connection.
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(handle.db);
    expect(rows).toEqual([{ one: 1 }]);
  } finally {
    process.removeListener('uncaughtException', onUncaught);
    await handle.close();
  }
});
