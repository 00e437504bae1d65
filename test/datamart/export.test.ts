// Export to the regional data mart, against a real local HTTP server playing the mart: a full
// run through the API and the worker, chunking, control characters, changes and deletes, a
// re-run with nothing new, the half-open window to the microsecond, 500s and timeouts
// retried, retries exhausted, a rejected upload with its errors, user-days found by their
// transaction stamp (an in-flight writer, a crash), one run at a time, and the stuck sweep. The tests of the main describe follow each other like a story on one database.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { QUEUES } from '../../shared/jobs.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker } from '../../worker/worker.js';
import { sweepStuckStages } from '../../worker/datamart/sweep.js';
import { pollUploads } from '../../worker/datamart/poll.js';
import type { WorkerContext } from '../../worker/context/context.js';
import type { Trx } from '../../db/database.js';
import { refreshUserDays } from '../../db/repositories/user-days.js';
import { connectTestDatabase } from '../support/database.js';
import { anAttendance, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { FakeMart } from './mart-server.js';

const DAY_MS = 86_400_000;
/** A finished school day (UTC school), three days back. */
const DAY = new Date(Date.now() - 3 * DAY_MS).toISOString().slice(0, 10);
const at = (hhmm: string) => `${DAY}T${hhmm}:00Z`;

const NO_CRON = { DATAMART_EXPORT_CRON: 'off', DATAMART_POLL_CRON: 'off', DATAMART_SWEEP_CRON: 'off' };

interface Suite {
  stack: TestStack;
  db: ReturnType<typeof connectTestDatabase>;
  token: string;
  ctx: WorkerContext;
}

async function suite(env: Record<string, string>): Promise<Suite> {
  const stack = await startStack({ worker: true, env: { ...NO_CRON, ...env } });
  const db = connectTestDatabase(stack.databaseUrl);
  const token = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
  return { stack, db, token, ctx: stack.worker!.ctx };
}

async function runToEnd(s: Suite, body: Record<string, string> = {}): Promise<any> {
  const started = await http(s.stack.url, 'POST', '/api/datamart/runs', { token: s.token, body });
  expect(started.status).toBe(202);
  expect(started.body.status).toBe('queued');
  expect(started.headers.get('location')).toBe(`/api/datamart/runs/${started.body.id}`);
  await s.stack.worker!.drain({ queues: [QUEUES.datamartRun] });
  const run = await runView(s, started.body.id);
  expect(['done', 'failed']).toContain(run.status);
  return run;
}

async function runView(s: Suite, id: number): Promise<any> {
  return (await http(s.stack.url, 'GET', `/api/datamart/runs/${id}`, { token: s.token })).body;
}

const stage = (run: any, kind: string, entity: string, operation: string | null = null) =>
  run.stages.find((st: any) => st.kind === kind && st.entity === entity && st.operation === operation);

async function attend(s: Suite, userId: number, type: 'checkin' | 'checkout', occurredAt: string): Promise<number> {
  const res = await http(s.stack.url, 'POST', '/api/attendances', { token: s.token, body: { user_id: userId, type, occurred_at: occurredAt } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function changedAt(s: Suite, entity: string, key: string): Promise<string> {
  const row = await sql<{ t: string }>`
    SELECT to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM datamart_changes WHERE entity = ${entity} AND key = ${key}
  `.execute(s.db.db);
  return row.rows[0].t;
}

const count = async (s: Suite, table: 'schools' | 'users') =>
  Number((await s.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('data mart export against a local mart', () => {
  let mart: FakeMart;
  let s: Suite;
  let school: { id: number };
  let alice: { id: number };
  let bob: { id: number };
  let carol: { id: number };
  let aliceIn: number;
  let aliceOut: number;

  beforeAll(async () => {
    mart = await new FakeMart().start();
    s = await suite({
      DATAMART_URL: mart.url, DATAMART_NAME: 'region-42', DATAMART_ID_PREFIX: 'att1-',
      DATAMART_COLLECT_CHUNK_SIZE: '2', DATAMART_EXPORT_CHUNK_SIZE: '2',
      DATAMART_REQUEST_RETRIES: '3', DATAMART_REQUEST_TIMEOUT: '1', DATAMART_RETRY_DELAY_MS: '10',
    });
    school = await aSchool(s.db.db, { name: 'École\u0001 Nord', timezone: 'UTC' });
    alice = await aUser(s.db.db, school.id, { name: 'Alice\u001b Martin\u0085', badge: 'A1' });
    bob = await aUser(s.db.db, school.id, { name: 'Bob\r\nStone\u0007', badge: 'B2' });
    carol = await aUser(s.db.db, school.id, { name: '=SUM(A1)', badge: 'C3' });
    aliceIn = await attend(s, alice.id, 'checkin', at('08:00'));
    aliceOut = await attend(s, alice.id, 'checkout', at('13:00'));
    await attend(s, bob.id, 'checkin', at('08:00')); // never checked out: closed at 17:00
    await attend(s, carol.id, 'checkin', new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z')); // today: not final yet
  });
  afterAll(async () => {
    await s?.db.close();
    await s?.stack.stop();
    await mart?.stop();
  });

  test('a full run collects every entity in chunks and sends them as CSV, referenced entities first', async () => {
    const run = await runToEnd(s);
    expect(run).toMatchObject({ status: 'done', trigger: 'manual', error: null, requested_window: null });
    expect(run.window.from).toBeNull(); // the first run: everything
    expect(run.window.to).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(run.stages.map((st: any) => `${st.kind} ${st.entity}${st.operation ? ` ${st.operation}` : ''}`)).toEqual([
      'collect schools', 'collect persons', 'collect attendance_days',
      'export schools upsert', 'export persons upsert', 'export attendance_days upsert',
      'export attendance_days delete', 'export persons delete', 'export schools delete',
    ]);
    expect(run.stages.every((st: any) => st.status === 'done')).toBe(true);

    const schools = await count(s, 'schools');
    const users = await count(s, 'users');
    // Collect chunks of 2 keys, export files of 2 rows, each its own sub-stage.
    expect(stage(run, 'collect', 'persons').rows).toBe(users);
    expect(stage(run, 'collect', 'persons').substages.map((ss: any) => ss.rows)).toEqual(
      Array.from({ length: Math.ceil(users / 2) }, (_, i) => Math.min(2, users - 2 * i)));
    expect(stage(run, 'collect', 'attendance_days').rows).toBe(2); // Carol's day is today
    expect(stage(run, 'export', 'persons', 'upsert').substages).toHaveLength(Math.ceil(users / 2));
    expect(run.rows_collected).toBe(schools + users + 2);
    expect(run.rows_exported).toBe(schools + users + 2);

    // What the mart received, in order: schools, then persons, then attendance days.
    expect([...new Set(mart.uploads.map((u) => u.entity))]).toEqual(['schools', 'persons', 'attendance_days']);
    expect(mart.uploads.every((u) => u.datamart === 'region-42' && u.operation === 'upsert' && u.version === '2')).toBe(true);
    expect(mart.received('persons').map((u) => u.rows.length)).toEqual(
      Array.from({ length: Math.ceil(users / 2) }, (_, i) => Math.min(2, users - 2 * i)));

    const schoolFile = mart.received('schools')[0];
    expect(schoolFile.header).toEqual(['id', 'name', 'timezone', 'school_days', 'day_end', 'attendance_threshold', 'late_after', 'records_from']);
    expect(schoolFile.rows).toContainEqual([`att1-${school.id}`, 'École Nord', 'UTC', '1;2;3;4;5', '17:00', '80', '', expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)]);

    const persons = mart.received('persons');
    expect(persons[0].header).toEqual(['id', 'school_id', 'name', 'badge', 'enrolled_on', 'active', 'deactivated_at']);
    const personRows = persons.flatMap((u) => u.rows);
    const personOf = (id: number) => personRows.find((r) => r[0] === `att1-${id}`);
    // Control characters stripped; a formula-looking name neutralised as in every CSV we write.
    expect(personOf(alice.id)).toEqual([`att1-${alice.id}`, `att1-${school.id}`, 'Alice Martin', 'A1', expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), 'true', '']);
    expect(personOf(bob.id)?.[2]).toBe('BobStone');
    expect(personOf(carol.id)?.[2]).toBe("'=SUM(A1)");
    expect(persons.every((u) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(u.content))).toBe(true);

    const days = mart.received('attendance_days').flatMap((u) => u.rows);
    expect(mart.received('attendance_days')[0].header).toEqual(['id', 'person_id', 'school_id', 'date', 'present', 'seconds', 'first_checkin_at', 'anomalies',
      'status', 'counted', 'late', 'mark', 'mark_reason', 'mark_conflict', 'marked_by', 'corrections', 'corrected_by']);
    expect(days).toHaveLength(2);
    const rest = ['present', 'true', 'false', '', '', '', '', '0', ''];
    expect(days).toContainEqual([`att1-${alice.id}-${DAY}`, `att1-${alice.id}`, `att1-${school.id}`, DAY, 'true', String(5 * 3600), `${DAY}T08:00:00.000Z`, '', ...rest]);
    expect(days).toContainEqual([`att1-${bob.id}-${DAY}`, `att1-${bob.id}`, `att1-${school.id}`, DAY, 'true', String(9 * 3600), `${DAY}T08:00:00.000Z`, 'missing_checkout', ...rest]);

    // Uploads wait for the mart's verdict; the poll settles them.
    expect(run.uploads.every((u: any) => u.status === 'processing' && u.remote_id !== null && u.attempts === 1)).toBe(true);
    expect(run.uploads.map((u: any) => u.rows).reduce((a: number, b: number) => a + b, 0)).toBe(run.rows_exported);
    const polled = await pollUploads(s.ctx);
    expect(polled.accepted).toHaveLength(run.uploads.length);
    const after = await runView(s, run.id);
    expect(after.uploads.every((u: any) => u.status === 'accepted')).toBe(true);
    expect(after.uploads).toEqual(expect.arrayContaining([expect.objectContaining({ status: 'accepted', checked_at: expect.any(String), finished_at: expect.any(String) })]));
    expect((await pollUploads(s.ctx)).accepted).toEqual([]);
  });

  test('a re-run with nothing changed exports nothing', async () => {
    const requests = mart.uploadRequests;
    const run = await runToEnd(s);
    expect(run.status).toBe('done');
    expect(run.rows_collected).toBe(0);
    expect(run.rows_exported).toBe(0);
    expect(run.uploads).toEqual([]);
    expect(mart.uploadRequests).toBe(requests);
    const list = await http(s.stack.url, 'GET', '/api/datamart/runs?limit=1', { token: s.token });
    expect(list.body.items.map((r: any) => r.id)).toEqual([run.id]);
    expect(list.body.next_cursor).not.toBeNull();
    const older = await http(s.stack.url, 'GET', `/api/datamart/runs?limit=1&cursor=${list.body.next_cursor}`, { token: s.token });
    expect(older.body.items[0].id).toBeLessThan(run.id);
    // The window goes on from where the last one ended.
    const previous = await runView(s, older.body.items[0].id);
    expect(run.window.from).toBe(previous.window.to);
  });

  test('changes and deletes: changed rows are sent again, a deleted day goes as a delete carrying its id', async () => {
    const before = mart.uploads.length;
    expect((await http(s.stack.url, 'PATCH', `/api/users/${alice.id}`, { token: s.token, body: { name: 'Alice Durand' } })).status).toBe(200);
    expect((await http(s.stack.url, 'DELETE', `/api/users/${bob.id}`, { token: s.token })).status).toBe(204);
    expect((await http(s.stack.url, 'DELETE', `/api/attendances/${aliceOut}`, { token: s.token })).status).toBe(204);
    expect((await http(s.stack.url, 'DELETE', `/api/attendances/${aliceIn}`, { token: s.token })).status).toBe(204);

    const run = await runToEnd(s);
    expect(run.status).toBe('done');
    const sent = mart.uploads.slice(before);
    expect(sent.map((u) => `${u.entity} ${u.operation}`)).toEqual(['persons upsert', 'attendance_days delete']);
    expect(sent[0].rows).toEqual(expect.arrayContaining([
      [`att1-${alice.id}`, `att1-${school.id}`, 'Alice Durand', 'A1', expect.any(String), 'true', ''],
      [`att1-${bob.id}`, `att1-${school.id}`, 'BobStone', 'B2', expect.any(String), 'false', expect.stringMatching(/Z$/)],
    ]));
    expect(sent[1].header).toEqual(['id']);
    expect(sent[1].rows).toEqual([[`att1-${alice.id}-${DAY}`]]);
    await pollUploads(s.ctx);
  });

  test('the window is half-open: a change at exactly its right bound goes in the next run', async () => {
    await http(s.stack.url, 'PATCH', `/api/users/${carol.id}`, { token: s.token, body: { name: 'Carol One' } });
    await http(s.stack.url, 'PATCH', `/api/users/${alice.id}`, { token: s.token, body: { name: 'Alice Two' } });
    const carolAt = await changedAt(s, 'persons', String(carol.id));
    const aliceAt = await changedAt(s, 'persons', String(alice.id));
    expect(carolAt < aliceAt).toBe(true);

    const before = mart.uploads.length;
    const first = await runToEnd(s, { to: aliceAt });
    expect(first.status).toBe('done');
    expect(first.requested_window).toEqual({ from: null, to: aliceAt });
    expect(first.window.to).toBe(aliceAt);
    expect(mart.uploads.slice(before).flatMap((u) => u.rows.map((r) => r[2]))).toEqual(['Carol One']);

    const next = await runToEnd(s);
    expect(next.window.from).toBe(aliceAt);
    expect(mart.uploads.slice(before + 1).flatMap((u) => u.rows.map((r) => r[2]))).toEqual(['Alice Two']);
    await pollUploads(s.ctx);
  });

  test('500s and a timeout are retried with backoff until the mart takes the file', async () => {
    await http(s.stack.url, 'PATCH', `/api/users/${carol.id}`, { token: s.token, body: { name: 'Carol Retry' } });
    const requests = mart.uploadRequests;
    const stored = mart.uploads.length;
    mart.scriptUploads(mart.fail(500), mart.fail(503), mart.slow(1500)); // the client gives up after 1 s
    const run = await runToEnd(s);
    expect(run.status).toBe('done');
    expect(run.uploads).toEqual([expect.objectContaining({ entity: 'persons', status: 'processing', attempts: 4, rows: 1 })]);
    expect(mart.uploadRequests - requests).toBe(4);
    expect(mart.uploads.slice(stored).map((u) => u.rows[0][2])).toContain('Carol Retry');
    await pollUploads(s.ctx);
  });

  test('retries exhausted: the run fails with the reason and the rows go with the next run', async () => {
    await http(s.stack.url, 'PATCH', `/api/users/${carol.id}`, { token: s.token, body: { name: 'Carol Late' } });
    mart.scriptUploads(mart.fail(500), mart.fail(500), mart.fail(500), mart.fail(500));
    const failed = await runToEnd(s);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/answered 500 \(4 attempts\)/);
    expect(stage(failed, 'export', 'persons', 'upsert')).toMatchObject({ status: 'failed', substages: [expect.objectContaining({ status: 'failed' })] });
    expect(failed.uploads).toEqual([expect.objectContaining({ status: 'failed', attempts: 4, remote_id: null, errors: [expect.stringMatching(/answered 500/)] })]);
    // The collect completed, so the next window starts after it; the row is still pending.
    const again = await runToEnd(s);
    expect(again.status).toBe('done');
    expect(again.window.from).toBe(failed.window.to);
    expect(again.rows_collected).toBe(0);
    expect(again.uploads).toEqual([expect.objectContaining({ entity: 'persons', rows: 1 })]);
    expect(mart.uploads.at(-1)!.rows[0][2]).toBe('Carol Late');
    await pollUploads(s.ctx);
  });

  test('a rejected upload is reported with its errors and its rows are sent again by the next run', async () => {
    await http(s.stack.url, 'PATCH', `/api/users/${carol.id}`, { token: s.token, body: { name: 'Carol Rejected' } });
    mart.verdictFor = (u) => (u.entity === 'persons' ? { status: 'rejected', errors: [{ line: 2, field: 'badge', message: 'unknown badge format' }] } : { status: 'accepted', errors: [] });
    const run = await runToEnd(s);
    const polled = await pollUploads(s.ctx);
    expect(polled.rejected).toEqual([run.uploads[0].id]);
    const view = await runView(s, run.id);
    expect(view.uploads).toEqual([expect.objectContaining({ status: 'rejected', errors: [{ line: 2, field: 'badge', message: 'unknown badge format' }] })]);
    const list = await http(s.stack.url, 'GET', '/api/datamart/runs?limit=1', { token: s.token });
    expect(list.body.items[0].uploads).toEqual({ processing: 0, accepted: 0, rejected: 1, failed: 0 });

    mart.verdictFor = () => ({ status: 'accepted', errors: [] });
    const next = await runToEnd(s);
    expect(next.rows_collected).toBe(0);
    expect(next.uploads).toEqual([expect.objectContaining({ entity: 'persons', rows: 1 })]);
    expect(mart.uploads.at(-1)!.rows[0][2]).toBe('Carol Rejected');
    expect((await pollUploads(s.ctx)).accepted).toHaveLength(1);
  });

  test('a change still uncommitted when the run starts is not skipped: the window stops before its transaction began', async () => {
    const client = await s.db.pool.connect();
    try {
      await client.query('BEGIN');
      const began = (await client.query(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`)).rows[0].t as string;
      await client.query('UPDATE users SET name = $1 WHERE id = $2', ['Carol In Flight', carol.id]);
      const during = await runToEnd(s);
      expect(during.status).toBe('done');
      expect(during.window.to <= began).toBe(true);
      expect(during.uploads).toEqual([]);
      await client.query('COMMIT');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined); // only if a failure left it open
      client.release();
    }
    const after = await runToEnd(s);
    expect(after.uploads).toEqual([expect.objectContaining({ entity: 'persons', rows: 1 })]);
    expect(mart.uploads.at(-1)!.rows[0][2]).toBe('Carol In Flight');
    await pollUploads(s.ctx);
  });

  /** Bob's finished day gets one more event in `trx`, recomputed there as every writer does; answers the transaction's id. */
  async function changeBobsDay(trx: Trx, hhmm: string): Promise<string> {
    const occurredAt = new Date(at(hhmm));
    await anAttendance(trx, { id: bob.id, school_id: school.id }, { type: 'checkout', occurred_at: occurredAt });
    await refreshUserDays(trx, [{ schoolId: school.id, userId: bob.id, occurredAt }]);
    return (await sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`.execute(trx)).rows[0].xid;
  }

  /**
   * Waits until no transaction that began before `xid` committed is still running anywhere in
   * the cluster: a run's window ends at the oldest one (pg_snapshot_xmin), and other test
   * files share this PostgreSQL, so a long import of theirs can hold the window back a while.
   */
  async function horizonPast(xid: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const r = await sql<{ past: boolean }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > ${xid}::bigint AS past`.execute(s.db.db);
      if (r.rows[0].past) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`transactions older than ${xid} still running after 30 s`);
  }
  const bobsDay = () => `att1-${bob.id}-${DAY}`;

  test('a user-day changed by a transaction that began before a run and commits after it goes with the next run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const inFlight = s.db.db.transaction().execute(async (trx) => {
      const xid = await changeBobsDay(trx, '12:00');
      written();
      await gate;
      return xid;
    });
    try {
      await wrote;
      const during = await runToEnd(s);
      expect(during.status).toBe('done');
      expect(during.uploads).toEqual([]);
    } finally {
      release();
    }
    await horizonPast(await inFlight);
    const after = await runToEnd(s);
    expect(after.uploads).toEqual([expect.objectContaining({ entity: 'attendance_days', operation: 'upsert', rows: 1 })]);
    expect(mart.uploads.at(-1)!.rows.map((r) => r[0])).toEqual([bobsDay()]);
    await pollUploads(s.ctx);
    expect((await runToEnd(s)).uploads).toEqual([]);
  });

  test('after a crash a changed user-day is sent once: a run killed before its collect finished is replayed, a failed upload goes with the next run', async () => {
    await horizonPast(await s.db.db.transaction().execute((trx) => changeBobsDay(trx, '14:00')));
    // A run that fixed its window and was killed before its collect was done: its bounds never count.
    await sql`
      INSERT INTO datamart_runs (trigger, status, window_from, window_to, xid_from, xid_to, started_at, finished_at, error)
      SELECT 'schedule', 'failed', max(window_to), now(), max(xid_to), pg_snapshot_xmin(pg_current_snapshot())::text::bigint, now(), now(), 'worker killed'
      FROM datamart_runs WHERE collected_at IS NOT NULL
    `.execute(s.db.db);
    mart.scriptUploads(mart.fail(500), mart.fail(500), mart.fail(500), mart.fail(500));
    const failed = await runToEnd(s);
    expect(failed.status).toBe('failed');
    expect(stage(failed, 'collect', 'attendance_days')).toMatchObject({ status: 'done', rows: 1 });
    const before = mart.uploads.length;
    const next = await runToEnd(s);
    expect(next.status).toBe('done');
    expect(next.rows_collected).toBe(0);
    expect(next.uploads).toEqual([expect.objectContaining({ entity: 'attendance_days', rows: 1 })]);
    expect(mart.uploads.slice(before).flatMap((u) => u.rows.map((r) => r[0]))).toEqual([bobsDay()]);
    await pollUploads(s.ctx);
    const quiet = await runToEnd(s);
    expect(quiet.rows_collected).toBe(0);
    expect(quiet.uploads).toEqual([]);
  });

  test('one run at a time; a window must run forwards; backoffice only', async () => {
    const busy = await s.db.db.insertInto('datamart_runs').values({ trigger: 'manual', requested_by: null, status: 'running' }).returning('id').executeTakeFirstOrThrow();
    const refused = await http(s.stack.url, 'POST', '/api/datamart/runs', { token: s.token, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('datamart_run_in_progress');
    await s.db.db.updateTable('datamart_runs').set({ status: 'failed' }).where('id', '=', busy.id).execute();

    const backwards = await http(s.stack.url, 'POST', '/api/datamart/runs', { token: s.token, body: { from: '2026-01-02T00:00:00.000002Z', to: '2026-01-02T00:00:00.000001Z' } });
    expect(backwards.status).toBe(422);
    const admin = await loginAs(s.stack.url, await aStaff(s.db.db, 'school_admin', school.id));
    expect((await http(s.stack.url, 'GET', '/api/datamart/runs', { token: admin })).status).toBe(403);
    expect((await http(s.stack.url, 'POST', '/api/datamart/runs', { token: admin, body: {} })).status).toBe(403);
    expect((await http(s.stack.url, 'GET', '/api/datamart/runs/999999', { token: s.token })).status).toBe(404);
  });

  test('the stuck sweep fails steps running longer than DATAMART_STAGE_TIMEOUT_MINUTES, and a new run can start', async () => {
    const old = sql<Date>`now() - interval '121 minutes'`;
    const stuck = await s.db.db.insertInto('datamart_runs').values({ trigger: 'schedule', requested_by: null, status: 'running', started_at: old })
      .returning('id').executeTakeFirstOrThrow();
    const stuckStage = await s.db.db.insertInto('datamart_stages').values({ run_id: stuck.id, seq: 1, kind: 'collect', entity: 'persons', operation: null, status: 'running', started_at: old })
      .returning('id').executeTakeFirstOrThrow();
    // A recent sub-stage of the stuck stage goes down with it.
    const sub = await s.db.db.insertInto('datamart_substages').values({ stage_id: stuckStage.id, seq: 1, status: 'running' }).returning('id').executeTakeFirstOrThrow();
    await s.db.db.insertInto('datamart_collect_keys').values({ stage_id: stuckStage.id, key: String(alice.id) }).execute();
    expect((await http(s.stack.url, 'POST', '/api/datamart/runs', { token: s.token, body: {} })).status).toBe(409);

    const out = await sweepStuckStages(s.ctx);
    expect(out).toEqual({ runs: [stuck.id], stages: [stuckStage.id], substages: [sub.id] });
    const view = await runView(s, stuck.id);
    expect(view).toMatchObject({ status: 'failed', error: 'stuck: running longer than 120 minutes' });
    expect(view.stages[0]).toMatchObject({ status: 'failed', error: 'stuck: running longer than 120 minutes' });
    expect(view.stages[0].substages[0]).toMatchObject({ status: 'failed' });
    expect(await s.db.db.selectFrom('datamart_collect_keys').selectAll().where('stage_id', '=', stuckStage.id).execute()).toEqual([]);

    // A fresh run is left alone by the sweep, and runs.
    const fresh = await runToEnd(s);
    expect(fresh.status).toBe('done');
    expect(await sweepStuckStages(s.ctx)).toEqual({ runs: [], stages: [], substages: [] });
  });
});

describe('DATAMART_EMULATION (the default without DATAMART_URL)', () => {
  let s: Suite;
  beforeAll(async () => {
    s = await suite({ DATAMART_ID_PREFIX: 'emu-' });
  });
  afterAll(async () => {
    await s?.db.close();
    await s?.stack.stop();
  });

  test('nothing is sent: the files are written under DATA_DIR/datamart and marked accepted', async () => {
    expect(s.stack.config.datamart).toMatchObject({ url: null, emulation: true });
    const school = await aSchool(s.db.db, { name: 'Emulated School' });
    const user = await aUser(s.db.db, school.id, { name: 'Emma Lee', badge: 'E1' });
    const run = await runToEnd(s);
    expect(run.status).toBe('done');
    expect(run.uploads.length).toBeGreaterThanOrEqual(2);
    expect(run.uploads.every((u: any) => u.status === 'accepted' && u.remote_id === null && u.finished_at !== null)).toBe(true);

    const dir = path.join(s.stack.config.dataDir, 'datamart', `run-${run.id}`);
    const files = (await fs.readdir(dir)).sort();
    expect(files).toEqual(run.uploads.map((u: any) => u.file_name).sort());
    const persons = await fs.readFile(path.join(dir, run.uploads.find((u: any) => u.entity === 'persons').file_name), 'utf8');
    expect(persons.split('\r\n')[0]).toBe('id,school_id,name,badge,enrolled_on,active,deactivated_at');
    expect(persons).toContain(`emu-${user.id},emu-${school.id},Emma Lee,E1,`);

    // Nothing to poll; a second run finds nothing new.
    expect(await pollUploads(s.ctx)).toEqual({ accepted: [], rejected: [], processing: [], unreachable: [] });
    const again = await runToEnd(s);
    expect(again).toMatchObject({ status: 'done', rows_collected: 0, rows_exported: 0, uploads: [] });
  });

  test('the worker schedules run, poll and sweep with the configured crons, and removes a schedule set to off', async () => {
    const schedules = async () => (await sql<{ name: string; cron: string }>`
      SELECT name, cron FROM pgboss.schedule WHERE name LIKE 'datamart-%' ORDER BY name`.execute(s.db.db)).rows;
    expect(await schedules()).toEqual([]);
    const logger = createLogger('test-worker', process.env.TEST_LOG_LEVEL ?? 'silent');
    // Crons that will not fire while the test runs.
    const withCrons = (sweepCron: string | null) =>
      ({ ...s.stack.config, datamart: { ...s.stack.config.datamart, exportCron: '5 4 1 1 *', pollCron: '6 4 1 1 *', sweepCron } });
    const first = await startWorker(withCrons('7 4 1 1 *'), s.stack.databaseUrl, logger);
    await first.stop();
    expect(await schedules()).toEqual([
      { name: 'datamart-poll', cron: '6 4 1 1 *' }, { name: 'datamart-run', cron: '5 4 1 1 *' }, { name: 'datamart-sweep', cron: '7 4 1 1 *' },
    ]);
    const second = await startWorker(withCrons(null), s.stack.databaseUrl, logger);
    await second.stop();
    expect(await schedules()).toEqual([{ name: 'datamart-poll', cron: '6 4 1 1 *' }, { name: 'datamart-run', cron: '5 4 1 1 *' }]);
  });
});
