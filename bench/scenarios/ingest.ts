// Ingest: 20 devices (5 schools × 4) each upload a 50,000-row batch at once; rows per second
// from the first upload accepted to the last status 2, read from the sessions' own times.
// Anchor, same run: PostgreSQL COPY of the same rows into an identical empty table (LIKE
// attendances INCLUDING ALL, in a scratch schema), four COPY streams at a time like the
// worker's four imports. Goal: at least 50% of COPY.
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { http } from '../../simulator/http.js';
import { postgresCpuSeconds, selfCpuSeconds } from '../cpu.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { batchRows, rowsCsv, seedDevices, seedSchool, type BenchDevice } from '../world.js';

const SCHOOLS = 5;
const DEVICES_PER_SCHOOL = 4;
const ROWS = 50_000;
const USERS = 500;
const round1 = (v: number) => Math.round(v * 10) / 10;

export async function ingestScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle, config } = await ctx.database('ingest');
  const { db } = handle;
  const batches: Array<{ device: BenchDevice; rows: ReturnType<typeof batchRows>; zip: Buffer }> = [];
  ctx.progress(`building ${SCHOOLS * DEVICES_PER_SCHOOL} batches of ${ROWS} rows`);
  for (let s = 0; s < SCHOOLS; s++) {
    const school = await seedSchool(db, `Ingest school ${s}`, USERS);
    const devices = await seedDevices(db, config, school.id, DEVICES_PER_SCHOOL);
    devices.forEach((device, k) => {
      // Each device of a school holds other days, as terminals at different doors would.
      const rows = batchRows({ rows: ROWS, userIds: school.userIds, dayOffset: k * Math.ceil(ROWS / 2 / USERS), minuteOffset: k });
      batches.push({ device, rows, zip: batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(rows) }) });
    });
  }
  await sql`ANALYZE`.execute(db);
  const totalRows = batches.length * ROWS;

  const api = await ctx.api(config, url);
  const worker = await ctx.worker(config, url);
  let seconds: number;
  // The api and the worker run in this process: its CPU is theirs (and the bench loop's, small).
  const pgDir = path.join(ctx.dataDir, 'postgres');
  const cpu = () => ({ node: selfCpuSeconds(), pg: postgresCpuSeconds(pgDir) });
  const before = cpu();
  let usage: { node: number; pg: number };
  try {
    ctx.progress(`uploading ${batches.length} batches, importing ${totalRows} rows`);
    await Promise.all(batches.map(async (b) => {
      const form = new FormData();
      form.append('archive', new Blob([new Uint8Array(b.zip)], { type: 'application/zip' }), 'batch.zip');
      const res = await http(api.url, 'POST', '/v4/synchro/datas', { token: b.device.token, body: form });
      if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${JSON.stringify(res.body)}`);
    }));
    const ids = batches.map((b) => b.device.id);
    for (;;) {
      const done = await db.selectFrom('sync_states').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('device_id', 'in', ids).where('channel', '=', 'synchro').where('status', '=', 2).executeTakeFirstOrThrow();
      if (Number(done.n) === ids.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const span = await sql<{ seconds: number }>`SELECT extract(epoch FROM max(processed_at) - min(received_at))::float8 AS seconds
      FROM sync_sessions WHERE device_id = ANY(${ids}::uuid[])`.execute(db);
    seconds = span.rows[0].seconds;
    usage = { node: selfCpuSeconds() - before.node, pg: postgresCpuSeconds(pgDir) - before.pg };
    const stored = await db.selectFrom('attendances').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    if (Number(stored.n) !== totalRows) throw new Error(`${stored.n} rows stored, expected ${totalRows}`);
  } finally {
    await worker.stop();
    await api.stop();
  }

  ctx.progress(`anchor: COPY of the same ${totalRows} rows`);
  await sql`CREATE SCHEMA IF NOT EXISTS scratch`.execute(db);
  await sql`DROP TABLE IF EXISTS scratch.attendances`.execute(db);
  await sql`CREATE TABLE scratch.attendances (LIKE public.attendances INCLUDING ALL)`.execute(db);
  const copyStarted = performance.now();
  const copyBefore = cpu();
  const queue = [...batches];
  await Promise.all(Array.from({ length: config.workerConcurrency }, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const { device, rows } = b;
        const lines = rows.map((r) => `${device.schoolId}\t${r.userId}\t${device.id}\t${r.recordId}\t${r.type}\t${r.at.toISOString()}\t${r.temperature ?? '\\N'}\n`);
        await pipeline(Readable.from([lines.join('')]), client.query(copyFrom('COPY scratch.attendances (school_id, user_id, device_id, record_id, type, occurred_at, temperature) FROM STDIN')));
      }
    } finally {
      await client.end();
    }
  }));
  const copySeconds = (performance.now() - copyStarted) / 1000;
  const copyUsage = { node: selfCpuSeconds() - copyBefore.node, pg: postgresCpuSeconds(pgDir) - copyBefore.pg };
  await sql`DROP SCHEMA scratch CASCADE`.execute(db);
  await handle.close();

  const rate = Math.round(totalRows / seconds);
  const copyRate = Math.round(totalRows / copySeconds);
  const ratio = Math.round((rate / copyRate) * 100) / 100;
  return {
    figures: { devices: batches.length, rows: totalRows, seconds: Math.round(seconds * 10) / 10, rows_per_second: rate,
      node_cpu_seconds: round1(usage!.node), postgres_cpu_seconds: round1(usage!.pg) },
    anchor: { seconds: round1(copySeconds), rows_per_second: copyRate, node_cpu_seconds: round1(copyUsage.node), postgres_cpu_seconds: round1(copyUsage.pg) },
    ratio,
    goal: 'rows/s ≥ 50% of COPY',
    met: ratio >= 0.5,
    notes: `worker concurrency ${config.workerConcurrency}; import includes validation, dedup, rejections, user-days, package and status`,
  };
}
