// Upgrades and rollbacks against one database (docs/OPERATIONS.md "Upgrading").
// - Which code may run on a schema: `schema_compatibility.oldest_migration` is the newest applied
//   migration not marked `compatibility = 'additive'`; code that does not know it refuses to
//   start with one line saying so (exit 78), code that knows it runs, even when newer additive
//   migrations are applied (an api or worker one version behind during a rolling upgrade).
// - A rollback (`npm run migrate -- down`) never deletes data rows: the down is first tried in a
//   transaction that is rolled back, and refused if any table would hold fewer rows after it.
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Logger } from '../shared/logger.js';
import { connectDatabase, type Db } from './database.js';
import { migrations as KNOWN } from './migrations/index.js';

export interface SchemaState {
  /** Applied migrations this code does not know (a newer version applied them). */
  unknown: string[];
  /** The migration the code must know to run on this schema, null before any is recorded. */
  oldestMigration: string | null;
  /** False: this code must not run on this schema. */
  compatible: boolean;
}

export class SchemaTooNew extends Error {
  constructor(readonly state: SchemaState) {
    super(`the database schema was migrated by a newer version (migration ${state.oldestMigration ?? state.unknown[0]}, ${state.unknown.length} migration(s) this version does not know) and older versions cannot run on it: run the version that applied it, or a newer one (CHANGELOG.md)`);
    this.name = 'SchemaTooNew';
  }
}

async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ exists: boolean }>`SELECT to_regclass('kysely_migration') IS NOT NULL AS exists`.execute(db);
  if (!rows[0]?.exists) return [];
  return (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db)).rows.map((r) => r.name);
}

export async function schemaState(db: Db, known: Readonly<Record<string, Migration>> = KNOWN): Promise<SchemaState> {
  const applied = await appliedMigrations(db);
  const unknown = applied.filter((name) => !(name in known));
  const { rows } = await sql<{ exists: boolean }>`SELECT to_regclass('schema_compatibility') IS NOT NULL AS exists`.execute(db);
  const oldestMigration = rows[0]?.exists
    ? (await sql<{ oldest_migration: string }>`SELECT oldest_migration FROM schema_compatibility`.execute(db)).rows[0]?.oldest_migration ?? null
    : null;
  const compatible = unknown.length === 0 || (oldestMigration !== null && oldestMigration in known);
  return { unknown, oldestMigration, compatible };
}

/** Throws SchemaTooNew when this code must not run on the schema. */
export async function assertSchemaCompatible(db: Db): Promise<SchemaState> {
  const state = await schemaState(db);
  if (!state.compatible) throw new SchemaTooNew(state);
  return state;
}

/** After migrating: records the newest applied migration that older code cannot run with. */
export async function recordCompatibility(db: Db): Promise<void> {
  const applied = new Set(await appliedMigrations(db));
  const breaking = Object.entries(KNOWN).filter(([name, m]) => applied.has(name) && (m as { compatibility?: string }).compatibility !== 'additive');
  const oldest = breaking.at(-1)?.[0];
  if (oldest === undefined || !applied.has('20261207_200000_schema_compatibility')) return;
  await sql`INSERT INTO schema_compatibility (oldest_migration) VALUES (${oldest})
            ON CONFLICT (singleton) DO UPDATE SET oldest_migration = excluded.oldest_migration, updated_at = now()`.execute(db);
}

class RolledBack extends Error {
  constructor(readonly losses: string[]) { super('rolled back'); }
}

/** Rows of every table but the migrations' own bookkeeping. */
async function rowCounts(db: Kysely<any>): Promise<Map<string, number>> {
  // A partitioned table counts its partitions' rows (a down that unpartitions it moves them);
  // the device key tables hold what their rows say (the down of 20261208_200000 folds them back into unique indexes);
  // the PUSH directory holds a registered terminal's serial number twice (push_terminals has it) and
  // a pending one's row, which the down of 20261209_100000 moves back into push_terminals.
  const { rows } = await sql<{ name: string }>`
    SELECT t.tablename AS name FROM pg_tables t JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
    WHERE t.schemaname = current_schema() AND t.tablename NOT LIKE 'kysely_migration%' AND t.tablename <> 'schema_compatibility'
      AND NOT c.relispartition AND t.tablename NOT IN ('attendance_keys', 'attendance_push_keys', 'reading_keys', 'push_serials') ORDER BY 1`.execute(db);
  const counts = new Map<string, number>();
  for (const { name } of rows) {
    const r = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(db);
    counts.set(name, Number(r.rows[0].n));
  }
  return counts;
}

/** What `down` of this migration would delete ("attendances: 3 of 5 rows"), tried in a transaction that is rolled back. */
export async function rowsLostByDown(db: Db, name: string): Promise<string[]> {
  const migration = KNOWN[name];
  if (!migration?.down) return [];
  try {
    await db.transaction().execute(async (trx) => {
      const before = await rowCounts(trx);
      await migration.down!(trx as unknown as Kysely<any>);
      const after = await rowCounts(trx);
      const losses = [...before].filter(([table, n]) => n > (after.get(table) ?? 0))
        .map(([table, n]) => `${table}: ${n - (after.get(table) ?? 0)} of ${n} rows${after.has(table) ? '' : ' (table dropped)'}`);
      throw new RolledBack(losses);
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.losses;
    throw err;
  }
  return [];
}

export class DownLosesData extends Error {
  constructor(readonly migration: string, readonly losses: string[]) {
    super(`refusing to roll back ${migration}: it would delete data (${losses.join('; ')}). Roll back the code instead: the previous version runs on this schema (docs/OPERATIONS.md "Upgrading")`);
    this.name = 'DownLosesData';
  }
}

/** The schema's state at a process's start, or null while the database cannot be reached (the process copes with that itself). */
export async function schemaStateAt(url: string, logger: Logger): Promise<SchemaState | null> {
  const database = connectDatabase(url, { max: 1, logger, applicationName: 'attendance-schema-check' });
  try {
    return await schemaState(database.db);
  } catch {
    return null;
  } finally {
    await database.close().catch(() => undefined);
  }
}

/**
 * At an api's or worker's start: exits 78 with one line when a newer version migrated the schema
 * past what this code can run on; logs a warning when it is ahead but compatible.
 */
export async function refuseNewerSchema(url: string, logger: Logger): Promise<void> {
  const state = await schemaStateAt(url, logger);
  if (state === null || state.unknown.length === 0) return;
  if (state.compatible) {
    logger.warn({ unknownMigrations: state.unknown }, 'the database schema is ahead of this version (additive migrations only): running on it');
    return;
  }
  const error = new SchemaTooNew(state);
  logger.fatal({ unknownMigrations: state.unknown, oldestMigration: state.oldestMigration }, error.message);
  process.stderr.write(`schema error: ${error.message}\n`);
  process.exit(78);
}
