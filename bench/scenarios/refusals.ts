// Refusals (issue #33): the worker as its own OS process, a fresh one per batch, importing a
// batch whose every row names a user of another school, so every row is refused
// (`unknown_user`). Its peak RSS (VmHWM from /proc) for 1,000,000 and 2,000,000 refused rows.
// BATCH_MAX_ROWS is raised above the largest batch for the run, so that the figures show
// what the refusals themselves cost: memory must not grow with their number (bytes_per_refused_row).
// `BENCH_REFUSAL_ROWS=500000,1000000` runs other sizes.
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { http } from '../../simulator/http.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { peakRssMiB, rssMiB, spawnScript } from '../spawn.js';
import { batchRows, rowsCsv, seedDevices, seedSchool } from '../world.js';

const SIZES = (process.env.BENCH_REFUSAL_ROWS ?? '1000000,2000000').split(',').map(Number);
const USERS = 2_000;
const label = (rows: number) => (rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1000}k`);

export async function refusalsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const env = { IMPORT_JOB_EXPIRE_SECONDS: '1800', BATCH_MAX_ROWS: String(Math.max(...SIZES)), ARCHIVE_MAX_UNCOMPRESSED_BYTES: String(1024 * 1048576) };
  const { url, handle, config } = await ctx.database('refusals', env);
  const { db } = handle;
  const school = await seedSchool(db, 'Refusing school', 10);
  const other = await seedSchool(db, 'Another school', USERS);
  const devices = await seedDevices(db, config, school.id, SIZES.length);
  const api = await ctx.api(config, url);
  const figures: Record<string, number> = {};
  try {
    for (const [i, rows] of SIZES.entries()) {
      const zip = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(batchRows({ rows, userIds: other.userIds, dayOffset: i * 300 })) });
      const worker = spawnScript('worker/main.ts', {
        DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, LOG_LEVEL: 'info', DATA_DIR: ctx.dataDir, ...env,
      });
      const size = label(rows);
      try {
        await worker.waitFor(/worker started/);
        const idle = rssMiB(worker.pid);
        ctx.progress(`worker ${worker.pid}: ${rows} refused rows (${(zip.length / 1048576).toFixed(1)} MiB zip), idle RSS ${idle} MiB`);
        const form = new FormData();
        form.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'batch.zip');
        const started = performance.now();
        const up = await http(api.url, 'POST', '/v4/synchro/datas', { token: devices[i].token, body: form });
        if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
        let exited = false;
        for (;;) {
          const st = await db.selectFrom('sync_states').select('status').where('device_id', '=', devices[i].id).where('channel', '=', 'synchro').executeTakeFirst();
          if (st?.status === 2) break;
          if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
            exited = true;
            ctx.progress(`worker exited during the import (${worker.child.exitCode ?? worker.child.signalCode})\n${worker.output.slice(-5).join('\n')}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        figures[`idle_rss_mib_${size}`] = idle;
        if (exited) {
          figures[`worker_died_${size}`] = 1;
          continue;
        }
        figures[`peak_rss_mib_${size}`] = peakRssMiB(worker.pid);
        figures[`import_seconds_${size}`] = Math.round(((performance.now() - started) / 1000) * 10) / 10;
        figures[`zip_mib_${size}`] = Math.round((zip.length / 1048576) * 10) / 10;
        const session = await db.selectFrom('sync_sessions').select(['outcome', 'stats', 'package']).where('device_id', '=', devices[i].id).executeTakeFirstOrThrow();
        figures[`package_kib_${size}`] = Math.round((session.package?.length ?? 0) / 1024);
        if (session.outcome !== 'imported') ctx.progress(`session outcome ${session.outcome}: ${JSON.stringify(session.stats).slice(0, 200)}`);
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await api.stop();
    await handle.close();
  }
  const [first, last] = [SIZES[0], SIZES[SIZES.length - 1]];
  const peakFirst = figures[`peak_rss_mib_${label(first)}`];
  const peakLast = figures[`peak_rss_mib_${label(last)}`];
  // What each further refused row costs at the peak: before issue #33's fix, ~930 bytes (1,000,000
  // rows 1037 MiB, 2,000,000 rows 1926 MiB); now the compressed package (~5.5 bytes a rejection,
  // held about three times while it is stored) and the touched user-days (8 bytes a row).
  const perRow = peakFirst !== undefined && peakLast !== undefined && last > first ? Math.round(((peakLast - peakFirst) * 1048576) / (last - first)) : NaN;
  return {
    figures: { ...figures, bytes_per_refused_row: perRow },
    goal: 'every batch imported, peak RSS < 256 MiB at 1,000,000 refused rows, < 64 bytes of peak per further refused row',
    met: peakFirst !== undefined && peakLast !== undefined && peakFirst < 256 && perRow < 64,
  };
}
