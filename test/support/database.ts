// One database per test suite, copied from the migrated template: suites never see each
// other's rows and can run in parallel.
import { randomBytes } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../db/database.js';
import { createLogger } from '../../shared/logger.js';

const TEMPLATE = 'attendance_test_template';

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests with `npm test` (jest globalSetup starts PostgreSQL)');
  return url;
}

/** The test PgBouncer's port under `TEST_POOLER=1` (postgres-setup.ts), else null. */
function poolerPort(): string | null {
  return process.env.TEST_POOLER_PORT ?? null;
}

/** A suite database's URL as the services reach it: through the test pooler when there is one. */
function asServicesReachIt(url: URL): string {
  const port = poolerPort();
  if (port !== null) url.port = port;
  return url.toString();
}

/**
 * `url` past the test pooler: the DATABASE_DIRECT_URL of a database created here under
 * `TEST_POOLER=1`; `url` itself otherwise (no pooler, or a URL that does not go through it).
 */
export function directUrl(url: string): string {
  const port = poolerPort();
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (port === null || parsed === null || parsed.port !== port) return url;
  parsed.port = new URL(adminUrl()).port;
  return parsed.toString();
}

export async function createSuiteDatabase(): Promise<string> {
  const name = `attendance_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return asServicesReachIt(url);
}

/** An empty database with no migrations applied (for migration tests). */
export async function createEmptyDatabase(): Promise<string> {
  const name = `attendance_empty_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return asServicesReachIt(url);
}

/**
 * The test's own connection, for fixtures and checks. Under TEST_FIXTURE_ROLE when the
 * statement check runs, which leaves these statements out (support/statement-check.ts).
 */
export function connectTestDatabase(url: string): DatabaseHandle {
  // Past the test pooler (TEST_POOLER=1): a fixture's role is set on its own session, which a
  // pooler in transaction mode would not keep, and the statement check tells fixtures by it.
  const target = directUrl(url);
  // Only on the run's own server: a test that starts a server of its own has no such role.
  const admin = process.env.TEST_ADMIN_DATABASE_URL;
  const sameServer = admin !== undefined && new URL(admin).host === new URL(target).host;
  const role = sameServer ? process.env.TEST_FIXTURE_ROLE : undefined;
  return connectDatabase(target, {
    max: 4, logger: createLogger('test', 'silent'), applicationName: 'attendance-test',
    ...(role && { onConnect: async (connection) => { await connection.executeQuery(CompiledQuery.raw(`SET ROLE ${role}`)); } }),
  });
}
