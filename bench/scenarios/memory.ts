// Memory: the worker as its own OS process (`node dist/worker/main.js`, as `npm run worker`
// starts it), a fresh one per batch; its peak RSS (VmHWM from /proc) after importing one
// 100,000-row batch, then, in a new process, one 1,000,000-row batch. Goal: under 256 MB for
// 1,000,000 rows, and no more than 20% above the 100,000-row peak, in every one of `--rounds`
// rounds (5 by default): a peak varies by several MiB from run to run with the moments the
// garbage collector runs, so one round says little (issue #31).
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { http } from '../../simulator/http.js';
import { roundsOption, spread, type BenchContext, type ScenarioResult } from '../harness.js';
import { peakRssMiB, rssMiB, spawnScript } from '../spawn.js';
import { batchRows, rowsCsv, seedDevices, seedSchool } from '../world.js';

const SIZES = [100_000, 1_000_000];
const USERS = 2_000;
/** The growth allowed from the 100,000-row peak to the 1,000,000-row one. */
const GROWTH_LIMIT = 1.2;

interface Round {
  idle: number[];
  peak: number[];
  seconds: number[];
}

export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rounds = roundsOption(process.argv, 5);
  const { url, handle, config } = await ctx.database('memory', { IMPORT_JOB_EXPIRE_SECONDS: '1800' });
  const { db } = handle;
  // A school per round, so each round's imports recompute days of their own, as the first did.
  const schools: Array<{ devices: Awaited<ReturnType<typeof seedDevices>>; zips: Buffer[] }> = [];
  for (let round = 0; round < rounds; round++) {
    const school = await seedSchool(db, `Memory school ${round + 1}`, USERS);
    schools.push({ devices: await seedDevices(db, config, school.id, SIZES.length), zips: SIZES.map((rows, i) => batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(batchRows({ rows, userIds: school.userIds, dayOffset: i * 300 })) })) });
  }
  const api = await ctx.api(config, url);
  const results: Round[] = [];

  /** One batch imported by a fresh worker process: its idle RSS, its peak, the seconds to status 2. */
  async function importOnce(device: Awaited<ReturnType<typeof seedDevices>>[number], rows: number, zip: Buffer) {
    const worker = spawnScript('worker/main.ts', {
      DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, LOG_LEVEL: 'info', DATA_DIR: ctx.dataDir, IMPORT_JOB_EXPIRE_SECONDS: '1800',
    });
    try {
      await worker.waitFor(/worker started/);
      const idle = rssMiB(worker.pid);
      const form = new FormData();
      form.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'batch.zip');
      const started = performance.now();
      const up = await http(api.url, 'POST', '/v4/synchro/datas', { token: device.token, body: form });
      if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
      for (;;) {
        const st = await db.selectFrom('sync_states').select('status').where('device_id', '=', device.id).where('channel', '=', 'synchro').executeTakeFirst();
        if (st?.status === 2) break;
        if (worker.child.exitCode !== null) throw new Error(`worker exited during the import\n${worker.output.slice(-10).join('\n')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const seconds = (performance.now() - started) / 1000;
      const session = await db.selectFrom('sync_sessions').select(['outcome', 'stats']).where('device_id', '=', device.id).executeTakeFirstOrThrow();
      if (session.outcome !== 'imported') throw new Error(`session outcome ${session.outcome}: ${JSON.stringify(session.stats).slice(0, 200)}`);
      return { idle, peak: peakRssMiB(worker.pid), seconds: Math.round(seconds * 10) / 10, rows };
    } finally {
      await worker.stop();
    }
  }

  try {
    for (let round = 0; round < rounds; round++) {
      const r: Round = { idle: [], peak: [], seconds: [] };
      for (const [i, rows] of SIZES.entries()) {
        const one = await importOnce(schools[round].devices[i], rows, schools[round].zips[i]);
        r.idle.push(one.idle);
        r.peak.push(one.peak);
        r.seconds.push(one.seconds);
      }
      ctx.progress(`round ${round + 1}/${rounds}: peak ${r.peak[0]} MiB at ${SIZES[0]} rows, ${r.peak[1]} MiB at ${SIZES[1]} (${growthPercent(r)} %)`);
      results.push(r);
    }
  } finally {
    await api.stop();
    await handle.close();
  }
  const worst = results.reduce((a, b) => (b.peak[1] / b.peak[0] > a.peak[1] / a.peak[0] ? b : a));
  const column = (size: number, key: keyof Round) => spread(results.map((r) => r[key][size]), 1).text;
  return {
    figures: {
      idle_rss_mib: column(0, 'idle'),
      peak_rss_mib_100k: column(0, 'peak'),
      peak_rss_mib_1m: column(1, 'peak'),
      import_seconds_100k: column(0, 'seconds'),
      import_seconds_1m: column(1, 'seconds'),
      zip_mib_1m: Math.round((schools[0].zips[1].length / 1048576) * 10) / 10,
      growth_percent: spread(results.map(growthPercent), 0).text,
      growth_percent_by_round: results.map(growthPercent).join(', '),
      worst_round_growth_percent: growthPercent(worst),
    },
    goal: `peak RSS < 256 MB at 1,000,000 rows and ≤ 20% above the 100,000-row peak, in ${rounds} rounds of ${rounds}`,
    met: results.every((r) => r.peak[1] * 1.048576 < 256 && r.peak[1] <= r.peak[0] * GROWTH_LIMIT),
  };
}

function growthPercent(r: Round): number {
  return Math.round(((r.peak[1] - r.peak[0]) / r.peak[0]) * 1000) / 10;
}
