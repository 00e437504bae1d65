// One suite's services: its own database (a copy of the migrated template), a real api on a
// free port, a worker when asked, and a connection for the test's own reads and fixtures.
// useSuite() registers the start in beforeAll and the teardown in afterAll, so a test file
// only says what it needs; the fields are there from the first test on.
import { afterAll, beforeAll } from '@jest/globals';
import type { Db } from '../../db/database.js';
import type { Env } from '../../shared/config.js';
import { connectTestDatabase } from './database.js';
import { startStack, type TestStack } from './services.js';

export interface Suite extends Omit<TestStack, 'stop'> {
  /** The suite database, for fixtures and for checking what the services wrote. */
  db: Db;
}

export function useSuite(opts: { worker?: boolean; env?: Env } = {}): Suite {
  const suite = {} as Suite;
  let stack: TestStack | undefined;
  let handle: ReturnType<typeof connectTestDatabase> | undefined;
  beforeAll(async () => {
    stack = await startStack(opts);
    handle = connectTestDatabase(stack.databaseUrl);
    const { stop: _stop, ...running } = stack;
    Object.assign(suite, running, { db: handle.db });
  });
  afterAll(async () => {
    await handle?.close();
    await stack?.stop();
  });
  return suite;
}
