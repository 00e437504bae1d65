// Ingest: 20 devices (5 schools × 4) each upload a 50,000-row batch at once; rows per second
// on the wall clock, from the first upload sent to the moment the last device reads status 2
// (each waits on `status?wait=25`, so the delay is the product's, not a polling interval's).
// Status 2 means the rows, the user-days and the package are committed: the whole import.
// Anchor: PostgreSQL COPY of the same rows into identical empty tables (LIKE … INCLUDING ALL, in
// a scratch schema): attendances, and attendance_keys, where the dedup key lives since attendances
// is partitioned by month (migration 20261208_200000: before, the key was a unique index of
// attendances and the anchor paid it there), both COPYs of a batch in one transaction, four
// streams at a time like the worker's four imports, timed on the same wall clock. Product and anchor alternate `--rounds` times (3 by
// default), each product round on a fresh database, so that a disturbance of the machine shows
// as spread rather than as a ratio. Goal: 0.7 of COPY (the median round).
// A third measure in each round, the floor: what docs/protocol/v4.md §8 requires of storing a
// batch and nothing else, on a fresh database like the product's: the same COPYs into the real
// attendances and attendance_keys (nothing stored twice), and in the same transaction the
// batch's user-days recomputed by the product's own function (status 2 means the figures include
// the batch). No archive, no CSV, no validation, no stage, no package: anchor → floor is the
// price of the figures, floor → product the price of reading and checking what a device sent.
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { http } from '../../simulator/http.js';
import { postgresCpuSeconds, selfCpuSeconds } from '../cpu.js';
import { roundsOption, spread, type BenchContext, type ScenarioResult } from '../harness.js';
import { resetStatements, topStatements } from '../statements.js';
import { batchRows, rowsCsv, seedDevices, seedSchool, type BenchDevice } from '../world.js';
import { copyText } from '../../db/copy-text.js';
import type { Db } from '../../db/database.js';
import { recomputeTouchedDays } from '../../db/repositories/user-days.js';
import { TouchedDays } from '../../shared/attendance/touched-days.js';

const SCHOOLS = 5;
const DEVICES_PER_SCHOOL = 4;
/** INGEST_BENCH_ROWS shrinks the batches to check the scenario itself (e.g. 2000). */
const ROWS = Number(process.env.INGEST_BENCH_ROWS ?? 50_000);
const USERS = 500;
const GOAL = 0.7;
const round1 = (v: number) => Math.round(v * 10) / 10;
/** `--statements` (bench/run.ts loads pg_stat_statements for it): the first round lists the statements PostgreSQL spent its time on, per 1,000 rows. */
const STATEMENTS = process.argv.includes('--statements');

type Rows = ReturnType<typeof batchRows>;
interface Run { seconds: number; node: number; pg: number }

/** The batches' rows and archives: the same for every round (each round's database numbers its users alike). */
function buildBatches(userIds: (school: number) => number[]): Array<{ school: number; rows: Rows; zip: Buffer }> {
  const out: Array<{ school: number; rows: Rows; zip: Buffer }> = [];
  for (let s = 0; s < SCHOOLS; s++) {
    for (let k = 0; k < DEVICES_PER_SCHOOL; k++) {
      // Each device of a school holds other days, as terminals at different doors would.
      const rows = batchRows({ rows: ROWS, userIds: userIds(s), dayOffset: k * Math.ceil(ROWS / 2 / USERS), minuteOffset: k });
      out.push({ school: s, rows, zip: batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(rows) }) });
    }
  }
  return out;
}

/** Waits on `status?wait=25` until the device's synchro status is 2; the wall-clock instant it read it. */
async function statusTwoAt(apiUrl: string, token: string): Promise<number> {
  for (;;) {
    const res = await http<{ status: number }>(apiUrl, 'GET', '/v4/synchro/status?wait=25', { token, timeoutMs: 40_000 });
    if (res.status !== 200) throw new Error(`status: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.status === 2) return performance.now();
    if (res.body.status === 0) throw new Error('status went back to 0: the batch was reset');
  }
}

export async function ingestScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rounds = roundsOption();
  const pgDir = path.join(ctx.dataDir, 'postgres');
  // The api and the worker run in this process: its CPU is theirs (and the bench loop's, small).
  const cpu = () => ({ node: selfCpuSeconds(), pg: postgresCpuSeconds(pgDir) });
  let batches: ReturnType<typeof buildBatches> | undefined;
  let concurrency = 0;
  const product: Run[] = [];
  const anchor: Run[] = [];
  const floor: Run[] = [];
  let userDays = 0;
  const measured = async (work: () => Promise<void>): Promise<Run> => {
    const before = cpu();
    const t0 = performance.now();
    await work();
    const seconds = (performance.now() - t0) / 1000;
    const after = cpu();
    return { seconds, node: after.node - before.node, pg: after.pg - before.pg };
  };

  for (let round = 1; round <= rounds; round++) {
    const { url, handle, config } = await ctx.database(`ingest_${round}`);
    const { db } = handle;
    concurrency = config.workerConcurrency;
    const { devices, users } = await seedWorld(db, config);
    if (!batches) {
      ctx.progress(`building ${SCHOOLS * DEVICES_PER_SCHOOL} batches of ${ROWS} rows`);
      batches = buildBatches((s) => users[s]);
    } else if (users.some((ids, s) => ids[0] !== batches!.find((b) => b.school === s)!.rows[0].userId)) {
      throw new Error('the round\'s users are numbered unlike the first round\'s: the batches would name unknown users');
    }
    const sent = batches.map((b, i) => ({ ...b, device: devices[b.school][i % DEVICES_PER_SCHOOL] }));
    await sql`ANALYZE`.execute(db);
    const totalRows = sent.length * ROWS;

    const api = await ctx.api(config, url);
    const worker = await ctx.worker(config, url);
    try {
      ctx.progress(`round ${round}/${rounds}: uploading ${sent.length} batches, importing ${totalRows} rows`);
      if (STATEMENTS && round === 1) await resetStatements(db);
      const before = cpu();
      const t0 = performance.now();
      const readyAt = await Promise.all(sent.map(async (b) => {
        const form = new FormData();
        form.append('archive', new Blob([new Uint8Array(b.zip)], { type: 'application/zip' }), 'batch.zip');
        const res = await http(api.url, 'POST', '/v4/synchro/datas', { token: b.device.token, body: form });
        if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${JSON.stringify(res.body)}`);
        return statusTwoAt(api.url, b.device.token);
      }));
      const seconds = (Math.max(...readyAt) - t0) / 1000;
      const after = cpu();
      product.push({ seconds, node: after.node - before.node, pg: after.pg - before.pg });
      if (STATEMENTS && round === 1) ctx.progress(`where PostgreSQL's time went (per 1,000 rows):\n${(await topStatements(db, totalRows / 1000, 25)).join('\n')}`);
      const stored = await db.selectFrom('attendances').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      if (Number(stored.n) !== totalRows) throw new Error(`${stored.n} rows stored, expected ${totalRows}`);
      userDays = await countUserDays(db);
    } finally {
      await worker.stop();
      await api.stop();
    }

    ctx.progress(`round ${round}/${rounds}: anchor, COPY of the same ${totalRows} rows`);
    await sql`CREATE SCHEMA scratch`.execute(db);
    await sql`CREATE TABLE scratch.attendances (LIKE public.attendances INCLUDING ALL)`.execute(db);
    await sql`CREATE TABLE scratch.attendance_keys (LIKE public.attendance_keys INCLUDING ALL)`.execute(db);
    anchor.push(await measured(async () => {
      const queue = [...sent];
      await Promise.all(Array.from({ length: concurrency }, async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          for (let b = queue.shift(); b; b = queue.shift()) {
            const { device, rows } = b;
            const lines = rows.map((r) => `${device.schoolId}\t${r.userId}\t${device.id}\t${r.recordId}\t${r.type}\t${r.at.toISOString()}\t${r.temperature ?? '\\N'}\n`);
            // The key's attendance_id: any bigint costs COPY the same (the record id stands in).
            const keys = rows.map((r) => `${device.schoolId}\t${device.id}\t${r.recordId}\t${r.recordId}\t${r.at.toISOString()}\n`);
            await client.query('BEGIN');
            await pipeline(Readable.from([lines.join('')]), client.query(copyFrom('COPY scratch.attendances (school_id, user_id, device_id, record_id, type, occurred_at, temperature) FROM STDIN')));
            await pipeline(Readable.from([keys.join('')]), client.query(copyFrom('COPY scratch.attendance_keys (school_id, device_id, record_id, attendance_id, occurred_at) FROM STDIN')));
            await client.query('COMMIT');
          }
        } finally {
          await client.end();
        }
      }));
    }));
    await handle.close();

    ctx.progress(`round ${round}/${rounds}: floor, the same COPYs into the real tables and the user-days recomputed`);
    const least = await ctx.database(`ingest_floor_${round}`);
    const world = await seedWorld(least.handle.db, least.config);
    await sql`ANALYZE`.execute(least.handle.db);
    if (STATEMENTS && round === 1) await resetStatements(least.handle.db);
    floor.push(await measured(() => storeAtTheFloor(least.handle.db, sent.map((b, i) => ({ ...b, device: world.devices[b.school][i % DEVICES_PER_SCHOOL], firstId: i * ROWS + 1 })), concurrency)));
    if (STATEMENTS && round === 1) ctx.progress(`where PostgreSQL's time went at the floor (per 1,000 rows):\n${(await topStatements(least.handle.db, totalRows / 1000, 12)).join('\n')}`);
    // The floor wrote what the product wrote: the same user-days.
    const floorDays = await countUserDays(least.handle.db);
    await least.handle.close();
    if (floorDays !== userDays) throw new Error(`the floor wrote ${floorDays} user-days, the product ${userDays}`);
  }

  const totalRows = SCHOOLS * DEVICES_PER_SCHOOL * ROWS;
  const rates = product.map((r) => totalRows / r.seconds);
  const copyRates = anchor.map((r) => totalRows / r.seconds);
  const ratios = spread(rates.map((r, i) => r / copyRates[i]));
  const floorRates = floor.map((r) => totalRows / r.seconds);
  const floorRatios = spread(floorRates.map((r, i) => r / copyRates[i]));
  const toFloor = spread(rates.map((r, i) => r / floorRates[i]));
  const median = <T extends Run>(runs: T[], pick: (r: T) => number) => spread(runs.map(pick), 1);
  return {
    figures: {
      devices: SCHOOLS * DEVICES_PER_SCHOOL, rows: totalRows, rounds,
      seconds: median(product, (r) => r.seconds).text, rows_per_second: spread(rates, 0).text,
      node_cpu_seconds: median(product, (r) => r.node).median, postgres_cpu_seconds: median(product, (r) => r.pg).median,
      cpu_ms_per_1000_rows: round1((median(product, (r) => r.node + r.pg).median / totalRows) * 1e6),
    },
    anchor: {
      seconds: median(anchor, (r) => r.seconds).text, rows_per_second: spread(copyRates, 0).text,
      node_cpu_seconds: median(anchor, (r) => r.node).median, postgres_cpu_seconds: median(anchor, (r) => r.pg).median,
    },
    floor: {
      seconds: median(floor, (r) => r.seconds).text, rows_per_second: spread(floorRates, 0).text,
      node_cpu_seconds: median(floor, (r) => r.node).median, postgres_cpu_seconds: median(floor, (r) => r.pg).median,
      of_the_anchor: floorRatios.text, product_of_the_floor: toFloor.text,
    },
    ratio: ratios.median,
    goal: `rows/s ≥ ${GOAL} of COPY (median of the rounds; both on the wall clock)`,
    met: ratios.median >= GOAL,
    notes: `ratio per round ${ratios.text}; the floor (rows, keys and user-days alone) at ${floorRatios.text} of COPY, the product at ${toFloor.text} of the floor; worker concurrency ${concurrency}; the product's time runs from the first upload to the last status 2 read through status?wait, so it includes validation, dedup, rejections, user-days, package and status`,
  };
}

/** The round's schools, their users and devices: numbered alike in every database of the run. */
async function seedWorld(db: Db, config: Parameters<typeof seedDevices>[1]): Promise<{ devices: BenchDevice[][]; users: number[][] }> {
  const devices: BenchDevice[][] = [];
  const users: number[][] = [];
  for (let s = 0; s < SCHOOLS; s++) {
    const school = await seedSchool(db, `Ingest school ${s}`, USERS);
    users.push(school.userIds);
    devices.push(await seedDevices(db, config, school.id, DEVICES_PER_SCHOOL));
  }
  return { devices, users };
}

/**
 * The floor: each batch in one transaction, `streams` at a time: its rows and their keys by
 * COPY (ids given, from `firstId`: no one else writes this database), then its user-days
 * recomputed as an import does (the users locked, the days read back, computed and upserted).
 */
async function storeAtTheFloor(db: Db, batches: ReadonlyArray<{ rows: Rows; device: BenchDevice; firstId: number }>, streams: number): Promise<void> {
  const queue = [...batches];
  await Promise.all(Array.from({ length: streams }, async () => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      const { device, rows, firstId } = b;
      const touched = new TouchedDays();
      const lines: string[] = [];
      const keys: string[] = [];
      rows.forEach((r, i) => {
        const at = r.at.toISOString();
        lines.push(`${firstId + i}\t${device.schoolId}\t${r.userId}\t${device.id}\t${r.recordId}\t${r.type}\t${at}\t${r.temperature ?? '\\N'}\n`);
        keys.push(`${device.schoolId}\t${device.id}\t${r.recordId}\t${firstId + i}\t${at}\n`);
        touched.add(device.schoolId, r.userId, r.at);
      });
      await db.transaction().execute(async (trx) => {
        await copyText(trx, 'COPY attendances (id, school_id, user_id, device_id, record_id, type, occurred_at, temperature) FROM STDIN', lines.join(''));
        await copyText(trx, 'COPY attendance_keys (school_id, device_id, record_id, attendance_id, occurred_at) FROM STDIN', keys.join(''));
        await recomputeTouchedDays(trx, touched);
      });
    }
  }));
}

async function countUserDays(db: Db): Promise<number> {
  const r = await db.selectFrom('user_days').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
