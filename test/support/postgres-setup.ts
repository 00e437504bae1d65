// Starts one embedded PostgreSQL for the whole run (or uses DATABASE_URL) and prepares a
// migrated template database; each suite then gets its own copy (see database.ts).
// `TEST_POOLER=1 npm test`: a PgBouncer in transaction mode (db/pgbouncer.ts) runs in front of
// it, and every suite's DATABASE_URL goes through it, DATABASE_DIRECT_URL past it (database.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { startPgBouncer } from '../../db/pgbouncer.js';
import { prepareDatabase } from '../../db/setup.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { FIXTURE_ROLE, STATEMENT_SETTINGS } from './statement-check.js';

export const TEMPLATE = 'attendance_test_template';

export default async function globalSetup(): Promise<void> {
  const logger = createLogger('test-setup', 'warn');
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-test-'));
    // pg_stat_statements records what the services run, for the statement check (statement-check.ts).
    const embedded = await startEmbeddedPostgres(dir, logger, { settings: STATEMENT_SETTINGS });
    (globalThis as Record<string, unknown>).__EMBEDDED_PG__ = { embedded, dir };
    adminUrl = embedded.url;
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect().catch((err: Error) => {
    throw new Error(`Cannot reach PostgreSQL at DATABASE_URL (${err.message}). Unset DATABASE_URL to let the tests start an embedded one.`);
  });
  await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${TEMPLATE}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  try {
    await prepareDatabase(envToConfig({ NODE_ENV: 'test' }), templateUrl.toString(), logger);
    process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
    process.env.TEST_TEMPLATE_DATABASE_URL = templateUrl.toString();
    await enableStatementCheck(client);
  } finally {
    await client.end();
  }
  if (process.env.TEST_POOLER === '1') {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-pooler-'));
    const pooler = await startPgBouncer(adminUrl, dir);
    (globalThis as Record<string, unknown>).__PGBOUNCER__ = { pooler, dir };
    process.env.TEST_POOLER_PORT = String(pooler.port);
  }
}

/**
 * The statement check needs pg_stat_statements loaded (the embedded server is started so) and a
 * role for the tests' own statements; on a server without them (a DATABASE_URL given), the
 * global teardown says the check did not run.
 */
async function enableStatementCheck(client: pg.Client): Promise<void> {
  const preload = await client.query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries');
  if (!preload.rows[0].shared_preload_libraries.split(',').map((s) => s.trim()).includes('pg_stat_statements')) return;
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await client.query(`DO $$ BEGIN CREATE ROLE ${FIXTURE_ROLE} NOLOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  // The migrations of the template are not the services' statements.
  await client.query('SELECT pg_stat_statements_reset()');
  process.env.TEST_FIXTURE_ROLE = FIXTURE_ROLE;
}
