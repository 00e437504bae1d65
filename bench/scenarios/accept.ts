// Accept: 50 devices at once upload ~20 KB batches for 20 s (after 3 s of warm-up) to the
// real api, run as its own process like `npm run api` (one process, no worker: only the
// acceptance is measured); uploads accepted per second and p50/p99 of `datas` as the client
// sees it. Each upload comes from a device in status 0, so every one is a real acceptance.
// Anchor, same run, same load: bench/anchors/minimal-upload.ts (multer + one transaction that
// stores the bytes and sends a pg-boss job). Goal: ≥ 70% of the anchor's rate, p99 < 250 ms.
import { batchZip, deviceXml } from '../../simulator/batch.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { stats } from '../harness.js';
import { closedLoop, type LoadResult } from '../load.js';
import { freePort, spawnScript } from '../spawn.js';
import { batchRows, rowsCsv, seedDevices, seedSchool } from '../world.js';

const CONCURRENCY = 50;
const DURATION_MS = 20_000;
const WARMUP_MS = 3_000;
const DEVICES = 20_000;
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
  return { uploads_per_second: Math.round(r.ok / r.seconds), p50_ms: Math.round(s.p50), p99_ms: Math.round(s.p99), accepted: r.ok, failed: r.failed };
}

export async function acceptScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle, config } = await ctx.database('accept', { IMPORT_MAX_PENDING: '10000000' });
  const school = await seedSchool(handle.db, 'Accept school', 200);
  ctx.progress(`registering ${DEVICES} devices`);
  const devices = await seedDevices(handle.db, config, school.id, DEVICES);
  const zip = archiveOfAbout(TARGET_BYTES, school.userIds);
  await handle.close();

  const env = {
    DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, NODE_ENV: 'production', API_PROCESSES: '1', HOST: '127.0.0.1', LOG_LEVEL: 'info',
    IMPORT_MAX_PENDING: '10000000', DATA_DIR: ctx.dataDir,
  };
  const apiPort = await freePort();
  const api = spawnScript('api/main.ts', { ...env, PORT: String(apiPort) });
  let real: LoadResult;
  try {
    await api.waitFor(/api listening/);
    ctx.progress(`real api: ${CONCURRENCY} devices uploading ${zip.length}-byte batches for ${DURATION_MS / 1000} s`);
    real = await closedLoop({ concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS }, async (i) => {
      const device = devices[i];
      if (!device) return 'out of devices';
      const res = await fetch(`http://127.0.0.1:${apiPort}/v4/synchro/datas`, { method: 'POST', headers: { authorization: `Bearer ${device.token}` }, body: form(zip) });
      await res.arrayBuffer();
      return res.status === 202 ? null : `status ${res.status}`;
    });
  } finally {
    await api.stop();
  }

  const anchorPort = await freePort();
  const anchor = spawnScript('bench/anchors/minimal-upload.ts', { DATABASE_URL: url, PORT: String(anchorPort) });
  let base: LoadResult;
  try {
    await anchor.waitFor(/anchor listening/);
    ctx.progress('anchor: the same load on express + multer + one transaction');
    base = await closedLoop({ concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS }, async () => {
      const res = await fetch(`http://127.0.0.1:${anchorPort}/upload`, { method: 'POST', body: form(zip) });
      await res.arrayBuffer();
      return res.status === 202 ? null : `status ${res.status}`;
    });
  } finally {
    await anchor.stop();
  }

  const figures = summary(real);
  const anchorFigures = summary(base);
  const ratio = Math.round((figures.uploads_per_second / anchorFigures.uploads_per_second) * 100) / 100;
  return {
    figures: { archive_bytes: zip.length, ...figures },
    anchor: anchorFigures,
    ratio,
    goal: '≥ 70% of the anchor\'s uploads/s, p99 < 250 ms',
    met: ratio >= 0.7 && figures.p99_ms < 250,
    notes: Object.keys(real.failures).length ? `failures: ${JSON.stringify(real.failures)}` : undefined,
  };
}
