// Migrations are versioned files with up and down: on an empty database they go all the way
// up, back down one at a time to nothing, and up again to the very same schema — through the
// migrator and through `npm run migrate`.
import { afterAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { isMigrated, migrateDown, migrateToLatest, migrator } from '../../db/migrator.js';
import { migrations } from '../../db/migrations/index.js';
import { DownLosesData } from '../../db/schema-version.js';
import { aDevice, aSchool, anAttendance, aUser } from '../support/fixtures.js';
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

describe('rollbacks never delete data rows', () => {
  test('a down that would delete PUSH punches refuses, through the migrator and npm run migrate, and changes nothing', async () => {
    const { url, db } = await emptyDatabase();
    await migrateToLatest(db);
    const school = await aSchool(db);
    const user = await aUser(db, school.id);
    const device = await aDevice(db, school.id);
    await db.updateTable('devices').set({ protocol: 'push', serial_number: 'ROLLBACK1' }).where('id', '=', device.id).execute();
    await anAttendance(db, user, { device_id: device.id, pin: user.badge, local_time: '2026-12-01 08:00:00' });

    // The migrations after PUSH terminals roll back (nothing of theirs holds rows here)…
    let refused: unknown;
    for (let i = 0; i < NAMES.length && refused === undefined; i++) await migrateDown(db).catch((err: unknown) => { refused = err; });
    // …the PUSH terminals one would delete the punch: refused, with what it would delete.
    expect(refused).toBeInstanceOf(DownLosesData);
    expect((refused as DownLosesData).migration).toBe('20261203_300000_push_terminals');
    expect((refused as DownLosesData).losses).toContain('attendances: 1 of 1 rows');
    const punches = () => db.selectFrom('attendances').select(['pin', 'user_id']).where('pin', 'is not', null).execute();
    expect(await punches()).toEqual([{ pin: user.badge, user_id: user.id }]);

    const cli = runScript('db/startup/migrate-cli.ts', { DATABASE_URL: url }, { args: ['down'] });
    expect((await cli.waitForExit(30_000)).code).toBe(65);
    expect(cli.stderr.join('\n')).toMatch(/refusing to roll back 20261203_300000_push_terminals: it would delete data \(attendances: 1 of 1 rows\)/);
    expect(await punches()).toHaveLength(1);
    expect(await migrator(db).getMigrations().then((all) => all.filter((m) => m.executedAt).at(-1)?.name)).toBe('20261203_300000_push_terminals');
  });

  test('20261209_100000_push_serials: pending terminals move to the directory, registered ones stay in their school, and back', async () => {
    const { db } = await emptyDatabase();
    const check = (r: { error?: unknown }) => { if (r.error) throw r.error; };
    check(await migrator(db).migrateTo('20261208_300000_rejection_detail'));
    const school = await aSchool(db);
    const device = await aDevice(db, school.id);
    await db.updateTable('devices').set({ protocol: 'push', serial_number: 'MIGREG1' }).where('id', '=', device.id).execute();
    await sql`INSERT INTO push_terminals (serial_number, school_id, device_id, address, attlog_stamp, bound_address)
              VALUES ('MIGREG1', ${school.id}, ${device.id}::uuid, '10.0.0.1', 42, '10.0.0.1')`.execute(db);
    await sql`INSERT INTO push_terminals (serial_number, address, model, options, last_seen_at) VALUES ('MIGPEND1', '10.0.0.9', 'F18', '{"a": "1"}', now())`.execute(db);

    check(await migrator(db).migrateTo('20261209_100000_push_serials'));
    const directory = await sql<{ serial_number: string; school_id: number | null; address: string | null; model: string | null; options: unknown }>`
      SELECT serial_number, school_id, address, model, options FROM push_serials ORDER BY serial_number`.execute(db);
    expect(directory.rows).toEqual([
      { serial_number: 'MIGPEND1', school_id: null, address: '10.0.0.9', model: 'F18', options: { a: '1' } },
      { serial_number: 'MIGREG1', school_id: school.id, address: null, model: null, options: null },
    ]);
    const terminals = await sql<{ serial_number: string; attlog_stamp: number }>`SELECT serial_number, attlog_stamp FROM push_terminals`.execute(db);
    expect(terminals.rows).toEqual([{ serial_number: 'MIGREG1', attlog_stamp: 42 }]);

    // Back: the pending terminal is a pending row of push_terminals again (nothing lost, so the down runs).
    expect(await migrateDown(db)).toEqual(['20261209_100000_push_serials']);
    const back = await sql<{ serial_number: string; device_id: string | null; model: string | null }>`
      SELECT serial_number, device_id, model FROM push_terminals ORDER BY serial_number`.execute(db);
    expect(back.rows).toEqual([{ serial_number: 'MIGPEND1', device_id: null, model: 'F18' }, { serial_number: 'MIGREG1', device_id: device.id, model: null }]);
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
