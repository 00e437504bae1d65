import fs from 'node:fs/promises';
import type { EmbeddedDatabase } from '../../db/embedded.js';
import type { PgBouncer } from '../../db/pgbouncer.js';
import { checkStatements } from './statement-check.js';

export default async function globalTeardown(): Promise<void> {
  const pooler = (globalThis as Record<string, unknown>).__PGBOUNCER__ as { pooler: PgBouncer; dir: string } | undefined;
  if (pooler) {
    await pooler.pooler.stop();
    await fs.rm(pooler.dir, { recursive: true, force: true });
  }
  const state = (globalThis as Record<string, unknown>).__EMBEDDED_PG__ as { embedded: EmbeddedDatabase; dir: string } | undefined;
  let failure: Error | null = null;
  try {
    failure = await statementCheck();
  } finally {
    if (state) {
      await state.embedded.stop();
      await fs.rm(state.dir, { recursive: true, force: true });
    }
  }
  if (failure) throw failure;
}

/** The statement check (statement-check.ts): an Error naming each statement on a per-school table that names no school. */
async function statementCheck(): Promise<Error | null> {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL;
  const templateUrl = process.env.TEST_TEMPLATE_DATABASE_URL;
  if (!adminUrl || !templateUrl) return null;
  const report = process.env.TEST_FIXTURE_ROLE ? await checkStatements(adminUrl, templateUrl) : null;
  if (report === null) {
    process.stderr.write('\nstatement check: NOT RUN (the server has no pg_stat_statements in shared_preload_libraries)\n');
    return null;
  }
  const { checked, scoped, crossSchool, pending, unscoped } = report;
  process.stderr.write(`\nstatement check: ${checked} statements on per-school tables: ${scoped} scoped to one school, ${crossSchool} listed cross-school, ${pending} UNSCOPED_PENDING, ${unscoped.length} new unscoped\n`);
  if (unscoped.length === 0) return null;
  return new Error(`statement check: ${unscoped.length} statement(s) on per-school tables name no school (filter by the caller's school_id; see test/support/statement-check.ts):\n${unscoped.map((s) => `  - ${s}`).join('\n')}`);
}
