// Migrations are versioned files with up and down: on an empty database they go all the way
// up, back down one at a time to nothing, and up again to the very same schema — through the
// migrator and through `npm run migrate`.
import { afterAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { isMigrated, migrateDown, migrateToLatest, migrator } from '../../db/migrator.js';
import { migrations } from '../../db/migrations/index.js';
import { connectTestDatabase, createEmptyDatabase } from '../support/database.js';
import { runCommand, runScript } from '../support/processes.js';

type Handle = ReturnType<typeof connectTestDatabase>;
const NAMES = Object.keys(migrations);
const handles: Handle[] = [];

async function emptyDatabase(): Promise<{ url: string; db: Handle['db'] }> {
  const url = await createEmptyDatabase();
  const handle = connectTestDatabase(url);
  handles.push(handle);
  return { url, db: handle.db };
}

/** Tables (with columns), indexes and functions of the public schema, kysely's bookkeeping aside. */
async function schema(db: Handle['db']): Promise<string[]> {
  const { rows } = await sql<{ item: string }>`
    SELECT 'table ' || c.table_name || '.' || c.column_name || ' ' || c.data_type || ' ' || c.is_nullable AS item
      FROM information_schema.columns c
     WHERE c.table_schema = 'public' AND c.table_name NOT LIKE 'kysely_migration%'
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_migration%'
    UNION ALL
    SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    UNION ALL
    SELECT 'constraint ' || c.conrelid::regclass || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
     WHERE c.connamespace = 'public'::regnamespace AND c.conrelid::regclass::text NOT LIKE 'kysely_migration%'
    ORDER BY 1`.execute(db);
  return rows.map((r) => r.item);
}

const tables = (items: string[]) => [...new Set(items.filter((i) => i.startsWith('table ')).map((i) => i.slice(6).split('.')[0]))].sort();

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
});

describe('migrator', () => {
  test('up to the latest, down one at a time until nothing is left, then up again to the same schema', async () => {
    const { db } = await emptyDatabase();
    expect(await schema(db)).toEqual([]);
    expect(await isMigrated(db)).toBe(false);

    expect(await migrateToLatest(db)).toEqual(NAMES);
    expect(await isMigrated(db)).toBe(true);
    const latest = await schema(db);
    expect(tables(latest)).toEqual(expect.arrayContaining(['schools', 'users', 'staff', 'devices', 'sync_sessions', 'sync_states', 'attendances', 'user_days']));
    expect(latest).toContain('function touch_user');
    expect(await migrateToLatest(db)).toEqual([]);

    // Down, newest first, one per call; each step changes the schema (most remove something,
    // hot_path_keys gives back the foreign keys it dropped).
    const after: string[][] = [latest];
    for (const name of [...NAMES].reverse()) {
      expect(await migrateDown(db)).toEqual([name]);
      expect(await isMigrated(db)).toBe(false);
      const now = await schema(db);
      expect(now).not.toEqual(after[after.length - 1]);
      after.push(now);
    }
    expect(await migrateDown(db)).toEqual([]);
    expect(await schema(db)).toEqual([]);

    // Up one at a time: each step gives back exactly the schema that step had on the way down.
    for (let i = 0; i < NAMES.length; i++) {
      const { results, error } = await migrator(db).migrateUp();
      expect(error).toBeUndefined();
      expect(results?.map((r) => r.migrationName)).toEqual([NAMES[i]]);
      expect(await schema(db)).toEqual(after[NAMES.length - 1 - i]);
    }
    expect(await schema(db)).toEqual(latest);
    expect(await isMigrated(db)).toBe(true);
  });
});

describe('npm run migrate', () => {
  async function migrate(url: string, ...args: string[]): Promise<{ code: number | null; out: string[] }> {
    const proc = runScript('db/startup/migrate-cli.ts', { DATABASE_URL: url }, { args });
    const { code } = await proc.waitForExit(30_000);
    return { code, out: proc.stdout.filter((line) => !line.startsWith('{')) };
  }

  test('applies, reports up to date, rolls back one per `down` until nothing is left, and applies again', async () => {
    const { url, db } = await emptyDatabase();
    expect(await migrate(url)).toEqual({ code: 0, out: [`applied ${NAMES.join(', ')}`] });
    expect(await isMigrated(db)).toBe(true);
    // pg-boss's schema and our queues come with it: the api's queue can start.
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pgboss.queue`.execute(db);
    expect(rows[0].n).toBeGreaterThan(0);
    expect(await migrate(url, 'up')).toEqual({ code: 0, out: ['already up to date'] });

    // Through npm itself once, so that `--` reaches the script.
    const viaNpm = runCommand('npm', ['run', '--silent', 'migrate', '--', 'down'], { DATABASE_URL: url });
    expect((await viaNpm.waitForExit(30_000)).code).toBe(0);
    expect(viaNpm.stdout.filter((line) => !line.startsWith('{'))).toEqual([`rolled back ${NAMES[NAMES.length - 1]}`]);

    for (const name of [...NAMES].reverse().slice(1)) {
      expect(await migrate(url, 'down')).toEqual({ code: 0, out: [`rolled back ${name}`] });
    }
    expect(await migrate(url, 'down')).toEqual({ code: 0, out: ['nothing to roll back'] });
    expect(tables(await schema(db))).toEqual([]);

    expect(await migrate(url)).toEqual({ code: 0, out: [`applied ${NAMES.join(', ')}`] });
    expect(await isMigrated(db)).toBe(true);
  }, 90_000);

  test('creates the ADMIN_EMAIL backoffice account once, when no backoffice account exists', async () => {
    const { url, db } = await emptyDatabase();
    const admin = { ADMIN_EMAIL: 'Root@Example.TEST', ADMIN_PASSWORD: 'a long admin password' };
    const first = runScript('db/startup/migrate-cli.ts', { DATABASE_URL: url, ...admin });
    expect((await first.waitForExit(30_000)).code).toBe(0);
    expect(first.stdout).toContain('backoffice account root@example.test created');
    const second = runScript('db/startup/migrate-cli.ts', { DATABASE_URL: url, ...admin, ADMIN_EMAIL: 'other@example.test' });
    expect((await second.waitForExit(30_000)).code).toBe(0);
    expect(second.stdout.filter((line) => !line.startsWith('{'))).toEqual(['already up to date']);
    const staff = await db.selectFrom('staff').select(['email', 'role', 'school_id']).execute();
    expect(staff).toEqual([{ email: 'root@example.test', role: 'backoffice', school_id: null }]);
  });

  test('an unknown direction is a usage error', async () => {
    const proc = runScript('db/startup/migrate-cli.ts', { DATABASE_URL: 'postgres://127.0.0.1:1/none' }, { args: ['sideways'] });
    expect((await proc.waitForExit(30_000)).code).toBe(64);
    expect(proc.stderr.join('\n')).toContain('usage: npm run migrate');
  });
});
