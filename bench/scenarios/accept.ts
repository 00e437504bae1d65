// Accept: 50 devices at once upload ~20 KB batches for 20 s (after 3 s of warm-up) to the
// real api, run as its own process like `npm run api` (one process, no worker: only the
// acceptance is measured); uploads accepted per second and p50/p99 of `datas` as the client
// sees it. Each upload comes from a device in status 0, so every one is a real acceptance.
// Anchor, same load: bench/anchors/minimal-upload.ts, the minimal durable equivalent of what the
// product does since the one import inbox (multer, a hash, one autocommitted INSERT of the bytes
// into a table shaped like sync_sessions, whose pending rows are the queue). Product and anchor
// alternate `--rounds` times (3 by default); the ratio is the median round's, with the spread.
// Goal: ≥ 80% of the anchor's rate, p99 < 250 ms.
// A third server in each round, the floor (bench/anchors/floor-upload.ts), does only what the
// protocol requires (the token, the archive check, the one statement with the flip) with the
// product's own functions: bare → floor is the price of the protocol's work, floor → api the
// price of the product's http layer. CPU ms per upload are read from /proc for each server,
// PostgreSQL and this process (the load).
import path from 'node:path';
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { roundsOption, spread, stats, type BenchContext, type ScenarioResult } from '../harness.js';
import { closedLoop, type LoadResult } from '../load.js';
import { postgresCpuSeconds, processCpuSeconds, selfCpuSeconds } from '../cpu.js';
import { freePort, spawnScript } from '../spawn.js';
import { profiling, summaryOf } from '../profile-summary.js';
import { batchRows, rowsCsv, seedDevices, seedSchool, type BenchDevice } from '../world.js';

const CONCURRENCY = 50;
/** ACCEPT_BENCH_SECONDS shortens the rounds to check the scenario itself (e.g. 3). */
const DURATION_MS = Number(process.env.ACCEPT_BENCH_SECONDS ?? 20) * 1000;
const WARMUP_MS = 3_000;
/** Devices per round and server (the api, the floor): each upload is the first of a device in status 0, so a round must not run out (~18,000 at 800/s). */
const DEVICES_PER_ROUND = 25_000;
const GOAL = 0.8;
const TARGET_BYTES = 20 * 1024;

function archiveOfAbout(bytes: number, userIds: number[]): Buffer {
  for (let rows = 100; ; rows += 50) {
    const zip = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(batchRows({ rows, userIds })) });
    if (zip.length >= bytes) return zip;
  }
}

function form(zip: Buffer): FormData {
  const f = new FormData();
  f.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'batch.zip');
  return f;
}

function summary(r: LoadResult) {
  const s = stats(r.latenciesMs);
  const uploads = r.ok + r.failed;
  // CPU per upload by process: the server (api or anchor), PostgreSQL, the load (this process).
  const cpuMs = Object.fromEntries(Object.entries(r.cpuSeconds).map(([name, seconds]) => [name, (seconds * 1000) / Math.max(1, uploads)]));
  return { uploads_per_second: Math.round(r.ok / r.seconds), p50_ms: Math.round(s.p50), p99_ms: Math.round(s.p99), accepted: r.ok, failed: r.failed, cpuMs };
}
type Summary = ReturnType<typeof summary>;

const round2 = (n: number) => Math.round(n * 100) / 100;
/** `server 0.42 + postgres 0.31 + load 0.2 = 0.93 CPU ms per upload`, the median round's of each. */
function cpuText(rounds: readonly Summary[]): string {
  const names = Object.keys(rounds[0]?.cpuMs ?? {});
  const medians = names.map((name) => [name, spread(rounds.map((r) => r.cpuMs[name])).median] as const);
  return `${medians.map(([name, ms]) => `${name} ${round2(ms)}`).join(' + ')} = ${round2(medians.reduce((a, [, ms]) => a + ms, 0))} CPU ms per upload`;
}

function figuresOf(rounds: readonly Summary[]) {
  return {
    uploads_per_second: spread(rounds.map((f) => f.uploads_per_second), 0).text,
    p50_ms: spread(rounds.map((f) => f.p50_ms), 0).text, p99_ms: spread(rounds.map((f) => f.p99_ms), 0).text,
    cpu: cpuText(rounds),
  };
}

export async function acceptScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rounds = roundsOption();
  const { url, handle, config } = await ctx.database('accept', { IMPORT_MAX_PENDING: '10000000' });
  const school = await seedSchool(handle.db, 'Accept school', 200);
  ctx.progress(`registering ${DEVICES_PER_ROUND * rounds * 2} devices`);
  const devices = await seedDevices(handle.db, config, school.id, DEVICES_PER_ROUND * rounds * 2);
  const zip = archiveOfAbout(TARGET_BYTES, school.userIds);
  await handle.close();

  const env = {
    DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, NODE_ENV: 'production', API_PROCESSES: '1', HOST: '127.0.0.1', LOG_LEVEL: 'info',
    IMPORT_MAX_PENDING: '10000000', DATA_DIR: ctx.dataDir,
  };
  const pgDir = path.join(ctx.dataDir, 'postgres');
  const load = (serverPid: number) => ({
    concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS,
    cpu: () => ({ server: processCpuSeconds(serverPid), postgres: postgresCpuSeconds(pgDir), load: selfCpuSeconds() }),
  });
  /** Uploads of devices in status 0, each with its own token, to `port`'s datas. */
  const uploadsOf = (port: number, mine: readonly BenchDevice[]) => async (i: number) => {
    const device = mine[i];
    if (!device) return 'out of devices';
    const res = await fetch(`http://127.0.0.1:${port}/v4/synchro/datas`, { method: 'POST', headers: { authorization: `Bearer ${device.token}` }, body: form(zip) });
    await res.arrayBuffer();
    return res.status === 202 ? null : `status ${res.status}`;
  };
  const product: LoadResult[] = [];
  const anchor: LoadResult[] = [];
  const floor: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const apiPort = await freePort();
    // `--cpu-prof`: the first round's api profiled (bench/profile-summary.ts says where its time went).
    const profile = round === 0 ? profiling('accept', 'api') : null;
    const api = spawnScript('api/main.ts', { ...env, PORT: String(apiPort) }, profile?.flags);
    try {
      await api.waitFor(/api listening/);
      ctx.progress(`round ${round + 1}/${rounds}: real api, ${CONCURRENCY} devices uploading ${zip.length}-byte batches for ${DURATION_MS / 1000} s`);
      product.push(await closedLoop(load(api.pid), uploadsOf(apiPort, devices.slice(2 * round * DEVICES_PER_ROUND, (2 * round + 1) * DEVICES_PER_ROUND))));
    } finally {
      await api.stop();
    }
    const summary = profile && summaryOf('api (round 1)', profile.file, 15);
    if (summary) ctx.progress(summary);

    const anchorPort = await freePort();
    const bare = spawnScript('bench/anchors/minimal-upload.ts', { DATABASE_URL: url, PORT: String(anchorPort) });
    try {
      await bare.waitFor(/anchor listening/);
      ctx.progress(`round ${round + 1}/${rounds}: anchor, the same load on express + multer + one INSERT`);
      anchor.push(await closedLoop(load(bare.pid), async (i) => {
        const res = await fetch(`http://127.0.0.1:${anchorPort}/upload`, { method: 'POST', headers: { 'x-device': String(i) }, body: form(zip) });
        await res.arrayBuffer();
        return res.status === 202 ? null : `status ${res.status}`;
      }));
    } finally {
      await bare.stop();
    }

    const floorPort = await freePort();
    const least = spawnScript('bench/anchors/floor-upload.ts', { ...env, PORT: String(floorPort) });
    try {
      await least.waitFor(/anchor listening/);
      ctx.progress(`round ${round + 1}/${rounds}: floor, the same load on the protocol's work alone (token, archive check, one statement)`);
      floor.push(await closedLoop(load(least.pid), uploadsOf(floorPort, devices.slice((2 * round + 1) * DEVICES_PER_ROUND, (2 * round + 2) * DEVICES_PER_ROUND))));
    } finally {
      await least.stop();
    }
  }

  const figures = product.map(summary);
  const anchors = anchor.map(summary);
  const floors = floor.map(summary);
  const ratios = spread(figures.map((f, i) => f.uploads_per_second / anchors[i].uploads_per_second));
  const floorRatios = spread(floors.map((f, i) => f.uploads_per_second / anchors[i].uploads_per_second));
  const toFloor = spread(figures.map((f, i) => f.uploads_per_second / floors[i].uploads_per_second));
  const p99 = spread(figures.map((f) => f.p99_ms), 0);
  const failures = [...product, ...floor].flatMap((r) => Object.entries(r.failures)).map(([k, v]) => `${k}: ${v}`);
  const failed = figures.reduce((n, f) => n + f.failed, 0);
  return {
    figures: { archive_bytes: zip.length, rounds, ...figuresOf(figures), accepted: figures.reduce((n, f) => n + f.accepted, 0), failed },
    anchor: figuresOf(anchors),
    floor: { ...figuresOf(floors), of_the_anchor: floorRatios.text, api_of_the_floor: toFloor.text },
    ratio: ratios.median,
    goal: `≥ ${GOAL * 100}% of the anchor's uploads/s (median round), p99 < 250 ms, no failed upload`,
    met: ratios.median >= GOAL && p99.median < 250 && failed === 0,
    notes: `ratio per round ${ratios.text}; the floor (the protocol's work alone) at ${floorRatios.text} of the anchor, the api at ${toFloor.text} of the floor${failures.length ? `; failures: ${failures.join(', ')}` : ''}`,
  };
}
