// A rolling upgrade (docs/OPERATIONS.md "Upgrading"): the new version's migrations are applied
// while the previous version's api and worker still run, so these must keep running on the new
// schema, or refuse with one clear line. "The previous version" here is this code compiled with
// the previous release's migration set (dist/db/migrations/index.js without the migrations
// added since): what it knows of the schema is what decides. (0.1.0 itself has no check: it
// runs on any schema that has at least its own migrations, and 0.2.0's are all additive.)
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrations } from '../../db/migrations/index.js';
import { migrator } from '../../db/migrator.js';
import { createBoss, ensureQueues } from '../../db/queue.js';
import { recordCompatibility } from '../../db/schema-version.js';
import { prepareDatabase } from '../../db/setup.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { connectTestDatabase, createEmptyDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { freePort, killIfRunning, ROOT, runCommand, type RunningProcess } from '../support/processes.js';

/** The last migration of the previous release (0.1.0); move it forward at each release. */
const PREVIOUS_RELEASE_LAST_MIGRATION = '20261207_000100_held_punches';
const NAMES = Object.keys(migrations);
const ADDED = NAMES.slice(NAMES.indexOf(PREVIOUS_RELEASE_LAST_MIGRATION) + 1);
/** The added migrations up to the first one not marked additive (the previous version runs on those). */
const firstBreaking = ADDED.findIndex((name) => (migrations[name] as { compatibility?: string }).compatibility !== 'additive');
const ADDITIVE = firstBreaking < 0 ? ADDED : ADDED.slice(0, firstBreaking);

let previous: string;
let databaseUrl: string;
let additiveUrl: string;
let handle: ReturnType<typeof connectTestDatabase>;
const running: RunningProcess[] = [];

beforeAll(async () => {
  // The previous version: the compiled processes, the newest migrations taken out of their list.
  previous = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-previous-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(previous, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(previous, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(previous, 'node_modules'));
  fs.mkdirSync(path.join(previous, 'web'));
  fs.symlinkSync(path.join(ROOT, 'web', 'dist'), path.join(previous, 'web', 'dist'));
  const index = path.join(previous, 'dist/db/migrations/index.js');
  let text = fs.readFileSync(index, 'utf8');
  for (const name of ADDED) text = text.replace(new RegExp(`^\\s*"${name}": \\w+,?\\n`, 'm'), '');
  fs.writeFileSync(index, text);

  databaseUrl = await createEmptyDatabase();
  await prepareDatabase(envToConfig({ NODE_ENV: 'test' }), databaseUrl, createLogger('test', 'silent'));
  handle = connectTestDatabase(databaseUrl);
  // A schema with the additive ones only, as a rolling upgrade goes while no breaking migration is in.
  additiveUrl = await createEmptyDatabase();
  const additive = connectTestDatabase(additiveUrl);
  try {
    const result = await migrator(additive.db).migrateTo(ADDITIVE.at(-1) ?? PREVIOUS_RELEASE_LAST_MIGRATION);
    if (result.error) throw result.error;
    await recordCompatibility(additive.db);
    const boss = createBoss(additiveUrl, { logger: createLogger('test', 'silent'), role: 'migrate', max: 2 });
    await boss.start();
    await ensureQueues(boss, envToConfig({ NODE_ENV: 'test' }));
    await boss.stop({ graceful: false, close: true });
  } finally {
    await additive.close();
  }
});

afterAll(async () => {
  for (const proc of running) await killIfRunning(proc);
  await handle.close();
  fs.rmSync(previous, { recursive: true, force: true });
});

function runPrevious(entry: string, env: Record<string, string> = {}, url = databaseUrl): RunningProcess {
  const proc = runCommand(process.execPath, [entry], {
    DATABASE_URL: url, LOG_LEVEL: 'info', JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!', API_PROCESSES: '1', ...env,
  }, { cwd: previous });
  running.push(proc);
  return proc;
}

test('this version adds migrations since the previous release, and its copy of the previous one lacks them', () => {
  expect(ADDED.length).toBeGreaterThan(0);
  const text = fs.readFileSync(path.join(previous, 'dist/db/migrations/index.js'), 'utf8');
  for (const name of ADDED) expect(text).not.toMatch(new RegExp(`"${name}": `));
  expect(text).toMatch(new RegExp(`"${PREVIOUS_RELEASE_LAST_MIGRATION}": `));
});

describe('the previous version on the new schema (additive migrations only)', () => {
  test('its api serves, saying the schema is ahead of it; its worker starts; its migrate has nothing to apply', async () => {
    const port = await freePort();
    expect(ADDITIVE.length).toBeGreaterThan(0);
    const api = runPrevious('dist/api/main.js', { PORT: String(port) }, additiveUrl);
    await api.waitForLine(/"api listening"/, 60_000);
    expect(api.jsonLines().find((l) => /schema is ahead of this version/.test(l.msg))?.unknownMigrations).toEqual(ADDITIVE);
    expect((await http(`http://127.0.0.1:${port}`, 'GET', '/healthz')).status).toBe(200);

    const worker = runPrevious('dist/worker/main.js', {}, additiveUrl);
    await worker.waitForLine(/"worker started"/, 60_000);

    const migrate = runPrevious('dist/db/startup/migrate-cli.js', {}, additiveUrl);
    expect((await migrate.waitForExit(30_000)).code).toBe(0);
    expect(migrate.stdout.join('\n')).toMatch(/the database schema is ahead of this version .*nothing to apply/);

    for (const proc of [api, worker]) {
      proc.child.kill('SIGTERM');
      expect((await proc.waitForExit(30_000)).code).toBe(0);
    }
  });
});

describe('the previous version on a schema it cannot run on', () => {
  test('a migration of this release not marked additive (the partitions, 20261208_200000) is recorded: the previous version refuses, naming it', async () => {
    const breaking = ADDED.filter((name) => !ADDITIVE.includes(name) && (migrations[name] as { compatibility?: string }).compatibility !== 'additive');
    if (breaking.length === 0) return;
    const recorded = (await sql<{ oldest_migration: string }>`SELECT oldest_migration FROM schema_compatibility`.execute(handle.db)).rows[0].oldest_migration;
    expect(recorded).toBe(breaking.at(-1));
    const proc = runPrevious('dist/worker/main.js');
    expect((await proc.waitForExit(30_000)).code).toBe(78);
    expect(proc.stderr.join('\n')).toMatch(new RegExp(`^schema error: the database schema was migrated by a newer version \\(migration ${recorded},`, 'm'));
  });

  test('api, worker and migrate refuse with one line naming the migration, exit 78, and change nothing', async () => {
    // What the new version's migrate records after a migration not marked additive.
    const newest = ADDED[ADDED.length - 1];
    await sql`UPDATE schema_compatibility SET oldest_migration = ${newest}`.execute(handle.db);
    const before = (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(handle.db)).rows;
    for (const entry of ['dist/api/main.js', 'dist/worker/main.js', 'dist/db/startup/migrate-cli.js']) {
      const proc = runPrevious(entry, { PORT: String(await freePort()) });
      expect((await proc.waitForExit(30_000)).code).toBe(78);
      expect(proc.stderr.join('\n')).toMatch(new RegExp(`^schema error: the database schema was migrated by a newer version \\(migration ${newest}, ${ADDED.length} migration\\(s\\) this version does not know\\) and older versions cannot run on it`, 'm'));
    }
    expect((await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(handle.db)).rows).toEqual(before);
  });
});
