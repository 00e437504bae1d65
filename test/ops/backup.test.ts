// Backup and restore (docs/OPERATIONS.md "Backups and restore"): a backup taken while devices
// sync, restored into a fresh PostgreSQL, misses what was accepted after it; devices still
// remember those rows, so `npm run admin -- resend-since` asks every device of the school to
// send again what it recorded since the backup's day, and the restored service ends up holding
// every accepted row exactly once (devices' record ids make the resend idempotent).
// The backup here is a base backup through PostgreSQL's low-level API (pg_backup_start, a copy
// of the data directory, pg_backup_stop's backup_label), what pg_basebackup and PITR do: test
// machines have no pg_dump for PostgreSQL 18 (Debian ships 15's, which refuses a newer server).
// A nightly pg_dump restores to the same kind of state: one consistent moment during traffic.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runAdmin } from '../../bin/admin.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';
import { prepareDatabase } from '../../db/setup.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { localDateOf } from '../../shared/time/zoned.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { freePort } from '../support/processes.js';
import { startStack, type TestStack } from '../support/services.js';

const logger = createLogger('test', 'silent');
const dirs: string[] = [];
const servers: EmbeddedDatabase[] = [];
const stacks: TestStack[] = [];
const handles: Array<ReturnType<typeof connectTestDatabase>> = [];

afterAll(async () => {
  for (const s of stacks) await s.stop().catch(() => undefined);
  for (const h of handles) await h.close().catch(() => undefined);
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `attendance-${name}-`));
  dirs.push(dir);
  return dir;
}

/** A device as firmware keeps it: every row it recorded, sent once, and again when asked (RESEND_SINCE). */
class RecordingDevice {
  readonly log: CsvAttendance[] = [];
  client: TestDevice;
  constructor(url: string, readonly identity: { id: string; secret: string }, private readonly users: number[]) {
    this.client = new TestDevice(url, identity);
  }

  moveTo(url: string): void {
    this.client = new TestDevice(url, this.identity);
  }

  /** One sync: the rows recorded since the last one, plus those of the window the manifest asks for again. */
  async sync(newRows: number): Promise<void> {
    const fresh: CsvAttendance[] = [];
    for (let i = 0; i < newRows; i++) {
      const n = this.log.length + fresh.length + 1;
      // Within the last 20 minutes, so every row is of the backup's day or the next.
      fresh.push({ record_id: n, user_id: this.users[n % this.users.length], type: n % 2 ? 'checkin' : 'checkout', occurred_at: new Date(Date.now() - (20 * 60_000) + n * 1000).toISOString() });
    }
    this.log.push(...fresh);
    await this.client.syncReliably((manifest: { resend?: { from: string; to: string } }) => {
      const resend = manifest.resend
        ? this.log.filter((r) => !fresh.includes(r) && r.occurred_at >= manifest.resend!.from && r.occurred_at < manifest.resend!.to)
        : [];
      const rows = [...resend, ...fresh];
      return batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }), ...(rows.length ? { 'attendances.csv': attendancesCsv(rows) } : {}) });
    });
  }
}

/** A base backup of a running cluster through the low-level API, into `into` (what pg_basebackup does). */
async function baseBackup(server: EmbeddedDatabase, from: string, into: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`SELECT pg_backup_start('attendance-test', true)`);
    fs.cpSync(from, into, { recursive: true, filter: (src) => !/postmaster\.(pid|opts)$/.test(src) });
    const { rows } = await client.query<{ labelfile: string }>('SELECT labelfile FROM pg_backup_stop(true)');
    fs.writeFileSync(path.join(into, 'postgres', 'backup_label'), rows[0].labelfile);
    // The WAL written while the copy ran (pg_backup_stop waited for it): the restore replays it.
    fs.cpSync(path.join(from, 'postgres', 'pg_wal'), path.join(into, 'postgres', 'pg_wal'), { recursive: true });
  } finally {
    await client.end();
  }
  const owner = fs.statSync(path.join(from, 'postgres'));
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, into]);
}

const rowsOf = async (db: ReturnType<typeof connectTestDatabase>['db']) =>
  (await db.selectFrom('attendances').select(['device_id', 'record_id']).execute()).map((r) => `${r.device_id}/${r.record_id}`).sort();

let source: { dir: string; server: EmbeddedDatabase; url: string };

beforeAll(async () => {
  const dir = tmpDir('backup-source');
  const server = await startEmbeddedPostgres(dir, logger, { port: await freePort() });
  servers.push(server);
  const url = await ensureDatabase(server.url, 'attendance');
  await prepareDatabase(envToConfig({ NODE_ENV: 'test' }), url, logger);
  source = { dir, server, url };
}, 120_000);

test('a backup taken during traffic, restored into a fresh instance, plus resend-since, holds every accepted row once', async () => {
  const stackA = await startStack({ databaseUrl: source.url, worker: true });
  stacks.push(stackA);
  const a = connectTestDatabase(source.url);
  handles.push(a);
  const school = await aSchool(a.db);
  const users = (await someUsers(a.db, school.id, 4)).map((u) => u.id);
  const devices: RecordingDevice[] = [];
  for (let i = 0; i < 3; i++) devices.push(new RecordingDevice(stackA.url, await aDevice(a.db, school.id), users));
  const firstRow = Date.now() - 20 * 60_000;

  // Before the backup, during it (each device keeps syncing while the data directory is copied), after it.
  for (const d of devices) await d.sync(4);
  const backupDir = tmpDir('backup-copy');
  let copying = true;
  const during = devices.map(async (d) => { do await d.sync(3); while (copying); });
  await baseBackup(source.server, source.dir, backupDir).finally(() => { copying = false; });
  await Promise.all(during);
  for (const d of devices) { await d.sync(3); await d.sync(2); }
  const accepted = await rowsOf(a.db);
  expect(accepted).toHaveLength(devices.reduce((n, d) => n + d.log.length, 0));
  await stackA.stop();
  stacks.splice(stacks.indexOf(stackA), 1);

  // The restore: a fresh PostgreSQL on the copy, the same code on it.
  const restored = await startEmbeddedPostgres(backupDir, logger, { port: await freePort() });
  servers.push(restored);
  const urlB = new URL(restored.url);
  urlB.pathname = '/attendance';
  await prepareDatabase(envToConfig({ NODE_ENV: 'test' }), urlB.toString(), logger);
  const stackB = await startStack({ databaseUrl: urlB.toString(), worker: true });
  stacks.push(stackB);
  const b = connectTestDatabase(urlB.toString());
  handles.push(b);
  const before = await rowsOf(b.db);
  expect(before.length).toBeGreaterThan(0);
  expect(before.length).toBeLessThan(accepted.length); // the backup missed what came after it

  // The post-restore step: every device of the school resends what it recorded since the backup's day.
  const since = localDateOf(firstRow, school.timezone);
  const admin = await runAdmin(['resend-since', '--since', since, '--school', String(school.id), '--by', 'restore-test'], urlB.toString());
  expect(admin).toEqual({ code: 0, out: `RESEND_SINCE ${since} set on 3 device(s) of 1 school(s)` });

  // Devices come back (to the restored service), are asked for the window, send it again.
  for (const d of devices) d.moveTo(stackB.url);
  const pending = async () => (await b.db.selectFrom('device_flags').select('id').where('name', '=', 'RESEND_SINCE').where('applied_at', 'is', null).execute()).length;
  for (let round = 0; round < 4 && (await pending()) > 0; round++) for (const d of devices) await d.sync(0);
  expect(await pending()).toBe(0);

  const after = await rowsOf(b.db);
  expect(after).toEqual(accepted);
  expect(new Set(after).size).toBe(after.length);
  const audit = await b.db.selectFrom('admin_actions' as never).selectAll().execute() as Array<{ command: string; operator: string }>;
  expect(audit.map((r) => [r.command, r.operator])).toEqual([['resend-since', 'restore-test']]);
}, 240_000);
