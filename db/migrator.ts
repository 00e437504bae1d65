// Applies the listed migrations (kysely Migrator) and pg-boss's own schema and queues.
import { Migrator, type MigrationResultSet } from 'kysely/migration';
import type { Db } from './database.js';
import { migrations } from './migrations/index.js';
import { DownLosesData, recordCompatibility, rowsLostByDown } from './schema-version.js';

const provider = { getMigrations: async () => migrations };

export function migrator(db: Db): Migrator {
  return new Migrator({ db, provider });
}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${(result.error as Error).message ?? result.error}`);
  }
  return result;
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const result = check(await migrator(db).migrateToLatest());
  await recordCompatibility(db);
  return (result.results ?? []).map((r) => r.migrationName);
}

/** Rolls back the latest migration, unless its `down` would delete rows (DownLosesData). */
export async function migrateDown(db: Db): Promise<string[]> {
  const last = (await migrator(db).getMigrations()).filter((m) => m.executedAt !== undefined).at(-1);
  if (last) {
    const losses = await rowsLostByDown(db, last.name);
    if (losses.length > 0) throw new DownLosesData(last.name, losses);
  }
  const result = check(await migrator(db).migrateDown());
  await recordCompatibility(db);
  return (result.results ?? []).map((r) => r.migrationName);
}

/** True when every listed migration has been applied. */
export async function isMigrated(db: Db): Promise<boolean> {
  const applied = await migrator(db).getMigrations();
  return applied.every((m) => m.executedAt !== undefined);
}
