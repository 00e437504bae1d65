// Sondes: 500 probes each uploading a 20-row readings.csv every 30 s (≈17 uploads/s) over
// loopback, for a bounded LOAD_SECONDS. Each probe runs the whole protocol (upload, poll status,
// download, ack). Measured: from the 202 (upload accepted) to the first status poll reading 2,
// and for every tenth batch, which holds a fever reading, from the start of its upload to its
// alert being listed by GET /api/alerts. Goal: medians under 1 s, p99 under 3 s.
import { sql } from 'kysely';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { hashPassword } from '../../shared/auth/password.js';
import { buildZip } from '../../shared/archive/build-zip.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { stats } from '../harness.js';

const DEVICES = 500;
const ROWS = 20;
const INTERVAL_MS = 30_000;
const LOAD_SECONDS = 75;
/** How often a probe polls its status, and the office polls its alerts: the figures' resolution. */
const POLL_MS = 50;
const FEVER_EVERY = 10;

interface Probe { id: string; secret: string; token: string; nextRecord: number }

export async function sondesScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle, config } = await ctx.database('sondes');
  const { db } = handle;
  const school = await db.insertInto('schools').values({ name: 'Bench school', fever_threshold: 37.5 }).returning('id').executeTakeFirstOrThrow();
  await sql`INSERT INTO users (school_id, name, badge) SELECT ${school.id}, 'Pupil ' || g, 'S' || g FROM generate_series(1, 200) g`.execute(db);
  const userIds = (await db.selectFrom('users').select('id').where('school_id', '=', school.id).execute()).map((u) => Number(u.id));
  const probes: Probe[] = [];
  const secrets = Array.from({ length: DEVICES }, () => generateDeviceSecret());
  const rows = await db.insertInto('devices').values(secrets.map((s, i) => ({ school_id: school.id, name: `Probe ${i}`, secret_hash: hashDeviceSecret(s) })))
    .returning('id').execute();
  rows.forEach((r, i) => probes.push({ id: r.id, secret: secrets[i], token: '', nextRecord: 1 }));
  await db.insertInto('staff').values({ email: 'bench-sondes@example.test', password_hash: await hashPassword('bench-password'), role: 'backoffice', school_id: null }).execute();

  const api = await ctx.api(config, url);
  const worker = await ctx.worker(config, url);
  const base = api.url;
  const json = async (res: Response) => (await res.json()) as Record<string, any>;
  try {
    const office = (await json(await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench-sondes@example.test', password: 'bench-password' }) }))).access_token as string;
    ctx.progress(`signing in ${DEVICES} probes`);
    for (let i = 0; i < probes.length; i += 50) {
      await Promise.all(probes.slice(i, i + 50).map(async (p) => {
        p.token = (await json(await fetch(`${base}/v4/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: p.id, secret: p.secret }) }))).access_token;
      }));
    }

    const toReady: number[] = [];
    const toAlert: number[] = [];
    let uploads = 0;
    let refused = 0;
    let batchNo = 0;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const call = (p: Probe, path: string, init: RequestInit = {}) => fetch(`${base}/v4/sondes/${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${p.token}` } });

    const alertVisible = async (deviceId: string, measuredAt: string, started: number) => {
      const to = new Date(Date.parse(measuredAt) + 1).toISOString();
      for (;;) {
        const page = await json(await fetch(`${base}/api/alerts?school_id=${school.id}&from=${measuredAt}&to=${to}`, { headers: { authorization: `Bearer ${office}` } }));
        if (page.items.some((a: { device_id: string }) => a.device_id === deviceId)) return performance.now() - started;
        await sleep(POLL_MS);
      }
    };

    const cycle = async (p: Probe) => {
      const fever = ++batchNo % FEVER_EVERY === 0;
      const now = Date.now();
      const lines = ['record_id,measured_at,temperature,user_id,sensor'];
      let feverAt = '';
      for (let i = 0; i < ROWS; i++) {
        // Distinct instants per reading, so the office can find this very alert.
        const at = new Date(now - (ROWS - i) * 1000 - (p.nextRecord % 1000)).toISOString();
        const hot = fever && i === ROWS - 1;
        if (hot) feverAt = at;
        lines.push(`${p.nextRecord++},${at},${hot ? '38.6' : (36 + Math.random()).toFixed(1)},${userIds[(p.nextRecord + i) % userIds.length]},gate`);
      }
      const zip = buildZip([{ name: 'device.xml', data: `<device><firmware>bench</firmware><clock>${new Date().toISOString()}</clock><timezone>UTC</timezone><pending_records>0</pending_records><roster_version>1</roster_version></device>` }, { name: 'readings.csv', data: `${lines.join('\n')}\n` }]);
      const form = new FormData();
      form.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'batch.zip');
      const started = performance.now();
      const up = await call(p, 'datas', { method: 'POST', body: form });
      const accepted = performance.now();
      const body = await json(up);
      if (up.status !== 202) {
        refused++;
        return;
      }
      uploads++;
      const alert = fever ? alertVisible(p.id, feverAt, started) : null;
      for (;;) {
        const status = await json(await call(p, 'status'));
        if (status.status === 2) break;
        await sleep(POLL_MS);
      }
      toReady.push(performance.now() - accepted);
      await (await call(p, 'instructions')).arrayBuffer();
      await (await call(p, 'ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: body.session_id }) })).arrayBuffer();
      if (alert) toAlert.push(await alert);
    };

    ctx.progress(`${DEVICES} probes × ${ROWS} rows every ${INTERVAL_MS / 1000} s for ${LOAD_SECONDS} s`);
    const loadStart = performance.now();
    const deadline = loadStart + LOAD_SECONDS * 1000;
    await Promise.all(probes.map(async (p) => {
      let next = loadStart + Math.random() * INTERVAL_MS;
      while (next < deadline) {
        await sleep(Math.max(0, next - performance.now()));
        await cycle(p);
        next += INTERVAL_MS;
      }
    }));
    const elapsed = (performance.now() - loadStart) / 1000;
    const ready = stats(toReady);
    const alerts = stats(toAlert);
    const readings = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM readings`.execute(db)).rows[0].n);
    const met = ready.p50 < 1000 && ready.p99 < 3000 && alerts.p50 < 1000 && alerts.p99 < 3000;
    return {
      figures: {
        devices: DEVICES, rows_per_batch: ROWS, load_seconds: Math.round(elapsed), uploads, refused, uploads_per_second: Math.round((uploads / elapsed) * 10) / 10,
        readings_stored: readings,
        accepted_to_status2_p50_ms: ready.p50, accepted_to_status2_p95_ms: ready.p95, accepted_to_status2_p99_ms: ready.p99, accepted_to_status2_max_ms: ready.max,
        fever_alerts: toAlert.length, upload_to_alert_p50_ms: alerts.p50, upload_to_alert_p95_ms: alerts.p95, upload_to_alert_p99_ms: alerts.p99, upload_to_alert_max_ms: alerts.max,
      },
      goal: 'median < 1 s and p99 < 3 s, both delays',
      met,
      notes: `status and alerts polled every ${POLL_MS} ms (the figures' resolution); WORKER_CONCURRENCY ${config.workerConcurrency}`,
    };
  } finally {
    await worker.stop();
    await api.stop();
    await handle.close();
  }
}
