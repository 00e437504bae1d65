// GET /metrics as an operator's Prometheus scrapes it: a real api process and a real worker
// process (its own metrics port), devices syncing through them, then the figures an operator
// watches must have moved: requests by route, uploads by result, imports and their rows,
// devices by status. Without the token, both endpoints refuse.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { connectTestDatabase, createSuiteDatabase } from '../support/database.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { eventually, freePort, getStatus, killIfRunning, ROOT, runScript, type RunningProcess } from '../support/processes.js';
import { scrape, valueOf } from './prometheus.js';

const TOKEN = 'metrics-token-for-the-test-0123456789';
let api: RunningProcess;
let worker: RunningProcess;
let apiUrl: string;
let workerMetrics: string;
let db: ReturnType<typeof connectTestDatabase>;

beforeAll(async () => {
  const databaseUrl = await createSuiteDatabase();
  db = connectTestDatabase(databaseUrl);
  const [port, metricsPort] = [await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${port}`;
  workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  const env = { DATABASE_URL: databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!', METRICS_TOKEN: TOKEN, HOST: '127.0.0.1' };
  // Two api processes (node:cluster), as production runs them: a scrape reaching either answers for both.
  api = runScript('api/main.ts', { ...env, PORT: String(port), API_PROCESSES: '2' });
  worker = runScript('worker/main.ts', { ...env, WORKER_METRICS_PORT: String(metricsPort) });
  await Promise.all([api.waitForLine(/"api listening"/, 60_000), worker.waitForLine(/"worker started"/, 60_000)]);
  await eventually(() => api.jsonLines().filter((l) => l.msg === 'api listening').length === 2, 30_000, 'both api processes listening');
});

afterAll(async () => {
  await killIfRunning(worker, 'SIGTERM');
  await killIfRunning(api, 'SIGTERM');
  await db?.close();
});

describe('metrics', () => {
  test('after two syncs and a refused upload, the counters an operator watches have moved', async () => {
    const before = await scrape(`${apiUrl}/metrics`, TOKEN);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(before.text, 'attendance_uploads_total', { channel: 'synchro', result: 'accepted' })).toBeUndefined();

    const school = await aSchool(db.db);
    const users = await someUsers(db.db, school.id, 2);
    const dev = await new TestDevice(apiUrl, await aDevice(db.db, school.id)).signIn();
    const rows = [
      { record_id: 1, user_id: users[0].id, type: 'checkin' as const, occurred_at: '2026-11-20T08:00:00+01:00' },
      { record_id: 2, user_id: users[1].id, type: 'checkin' as const, occurred_at: '2026-11-20T08:01:00+01:00' },
      { record_id: 3, user_id: 999_999, type: 'checkin' as const, occurred_at: '2026-11-20T08:02:00+01:00' },
    ];
    const first = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
    // The same rows again (a device that lost its package), and one new.
    const again = [...rows, { record_id: 4, user_id: users[0].id, type: 'checkout' as const, occurred_at: '2026-11-20T12:00:00+01:00' }];
    const second = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(again) }));
    const refused = await dev.upload(Buffer.from('this is not a zip archive'));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusedCode: string = refused.body.code;
    // Left in status 2 so that the device gauge shows it.
    const third = await dev.upload(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([]) }));
    expect(third.status).toBe(202);
    await dev.waitForStatus(2);

    const told = [first.pkg, second.pkg].flatMap((p) => p.all('import'));
    const total = (field: string) => told.reduce((n, i) => n + Number(i[field]), 0);
    expect(total('duplicates')).toBeGreaterThan(0);

    const apiText = (await scrape(`${apiUrl}/metrics`, TOKEN)).text;
    // Requests by declared route (never the raw URL) and status.
    expect(valueOf(apiText, 'http_request_duration_seconds_count', { method: 'POST', route: '/v4/:channel/datas', status: '202' })).toBe(3);
    expect(valueOf(apiText, 'http_request_duration_seconds_count', { method: 'POST', route: '/v4/:channel/ack', status: '200' })).toBe(2);
    expect(apiText).not.toContain(first.sessionId);
    // Uploads by channel and result.
    expect(valueOf(apiText, 'attendance_uploads_total', { channel: 'synchro', result: 'accepted' })).toBe(3);
    expect(valueOf(apiText, 'attendance_uploads_total', { channel: 'synchro', result: refusedCode })).toBe(1);
    // Read from the database: this device's channel waits in status 2, nothing is queued.
    expect(valueOf(apiText, 'attendance_device_channels', { channel: 'synchro', status: '2' })).toBe(1);
    expect(valueOf(apiText, 'attendance_queue_jobs', { queue: 'import-batch', state: 'created' })).toBe(0);
    expect(valueOf(apiText, 'attendance_database_up')).toBe(1);
    expect(valueOf(apiText, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // The worker's own figures: three imports, their rows as the devices were told them.
    const workerText = await eventually(async () => {
      const text = (await scrape(workerMetrics, TOKEN)).text;
      return valueOf(text, 'attendance_import_jobs_total', { outcome: 'imported' }) === 3 ? text : undefined;
    }, 10_000, 'three imports counted');
    expect(valueOf(workerText, 'attendance_import_duration_seconds_count', { outcome: 'imported' })).toBe(3);
    expect(valueOf(workerText, 'attendance_import_ready_delay_seconds_count', { channel: 'synchro' })).toBe(3);
    expect(valueOf(workerText, 'attendance_import_rows_total', { channel: 'synchro', result: 'accepted' })).toBe(total('accepted'));
    expect(valueOf(workerText, 'attendance_import_rows_total', { channel: 'synchro', result: 'duplicate' })).toBe(total('duplicates'));
    expect(valueOf(workerText, 'attendance_import_rows_total', { channel: 'synchro', result: 'rejected' })).toBe(total('rejected'));
    const rejected = [first.pkg, second.pkg].flatMap((p) => p.all('rejection'));
    expect(valueOf(workerText, 'attendance_import_rejections_total', { channel: 'synchro', code: 'unknown_user' }))
      .toBe(rejected.filter((r) => r.code === 'unknown_user').length);
    expect(valueOf(workerText, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  test('under two api processes, every request is counted once, whichever process answers the scrape', async () => {
    const healthz = async () => valueOf((await scrape(`${apiUrl}/metrics`, TOKEN)).text, 'http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status: '200' }) ?? 0;
    const before = await healthz();
    // A fresh connection each: node:cluster hands them to both processes in turn.
    for (let i = 0; i < 10; i++) expect(await getStatus(`${apiUrl}/healthz`)).toBe(200);
    for (let i = 0; i < 4; i++) expect(await healthz()).toBe(before + 10);
    const pids = new Set(api.jsonLines().filter((l) => l.msg === 'api listening').map((l) => l.pid));
    expect(pids.size).toBe(2);
  });

  test('PUSH terminals have their series: calls by path, table and answer, lines stored, terminals by state, open commands', async () => {
    const school = await aSchool(db.db);
    await someUsers(db.db, school.id, 1);
    const known = `MT${Date.now().toString(36).toUpperCase()}`;
    const stranger = `${known}X`;
    await db.db.insertInto('devices').values({ school_id: school.id, name: 'Gate', kind: 'terminal', protocol: 'push', serial_number: known, secret_hash: 'x', sync_interval_seconds: 300 }).execute();
    const device = await db.db.selectFrom('devices').select('id').where('serial_number', '=', known).executeTakeFirstOrThrow();
    await db.db.insertInto('push_serials').values({ serial_number: known, school_id: school.id }).execute();
    await db.db.insertInto('push_terminals').values({ serial_number: known, school_id: school.id, device_id: device.id, attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0, roster_version: 0 }).execute();
    const post = (sn: string, table: string, body: string) => fetch(`${apiUrl}/iclock/cdata?SN=${sn}&table=${table}`, { method: 'POST', body });
    const calls = [
      await fetch(`${apiUrl}/iclock/cdata?SN=${known}&options=all&pushver=2.4.1`),
      await post(known, 'ATTLOG', '1\t2026-11-20 08:00:00\t0\t1\n2\t2026-11-20 08:01:00\t0\t1\n'),
      await post(stranger, 'ATTLOG', '1\t2026-11-20 08:00:00\t0\t1\n'),
      await fetch(`${apiUrl}/iclock/getrequest?SN=${known}`),
    ];
    expect(calls.map((c) => c.status)).toEqual([200, 200, 403, 200]);
    const text = await eventually(async () => {
      const t = (await scrape(`${apiUrl}/metrics`, TOKEN)).text;
      return valueOf(t, 'attendance_push_calls_total', { path: 'getrequest', table: '-', status: '200' }) === 1 ? t : undefined;
    }, 10_000, 'the PUSH calls counted');
    expect(valueOf(text, 'attendance_push_calls_total', { path: 'cdata', table: 'handshake', status: '200' })).toBe(1);
    expect(valueOf(text, 'attendance_push_calls_total', { path: 'cdata', table: 'ATTLOG', status: '200' })).toBe(1);
    expect(valueOf(text, 'attendance_push_calls_total', { path: 'cdata', table: 'ATTLOG', status: '403' })).toBe(1);
    expect(valueOf(text, 'attendance_push_lines_total', { table: 'ATTLOG' })).toBe(2);
    expect(valueOf(text, 'attendance_push_terminals', { state: 'registered' })).toBe(1);
    expect(valueOf(text, 'attendance_push_terminals', { state: 'pending' })).toBe(1); // the stranger's first contact
    expect(valueOf(text, 'attendance_push_commands_open', { status: 'queued' })).toBeGreaterThanOrEqual(0);
  });

  test('every series the Grafana dashboard and the operator guide name is served by the api or the worker', async () => {
    const served = new Set<string>();
    for (const url of [`${apiUrl}/metrics`, workerMetrics]) {
      for (const m of (await scrape(url, TOKEN)).text.matchAll(/^# TYPE (\w+) /gm)) served.add(m[1]);
    }
    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const guide = fs.readFileSync(path.join(ROOT, 'docs/OPERATIONS.md'), 'utf8');
    const named = new Set([...exprs.join('\n'), guide].join('\n').match(/\b(?:attendance|http_request|process|nodejs)_\w+/g) ?? []);
    const missing = [...named].map((n) => n.replace(/_(bucket|count|sum)$/, '')).filter((n) => !served.has(n) && !n.endsWith('_'));
    expect(exprs.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  test('a scrape without the token, or with another one, is refused by the api and by the worker', async () => {
    for (const url of [`${apiUrl}/metrics`, workerMetrics]) {
      for (const token of [null, 'not-the-metrics-token-at-all']) {
        const res = await scrape(url, token);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(res.text).not.toContain('attendance_');
      }
    }
  });
});
