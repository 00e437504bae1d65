// Memory: the worker as its own OS process (`node dist/worker/main.js`, as `npm run worker`
// starts it), a fresh one per batch; its peak RSS (VmHWM from /proc) after importing one
// 100,000-row batch, then, in a new process, one 1,000,000-row batch. Goal: under 256 MB for
// 1,000,000 rows, and no more than 20% above the 100,000-row peak.
import { batchZip, deviceXml } from '../../simulator/batch.js';
import { http } from '../../simulator/http.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { peakRssMiB, rssMiB, spawnScript } from '../spawn.js';
import { batchRows, rowsCsv, seedDevices, seedSchool } from '../world.js';

const SIZES = [100_000, 1_000_000];
const USERS = 2_000;

export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle, config } = await ctx.database('memory', { IMPORT_JOB_EXPIRE_SECONDS: '1800' });
  const { db } = handle;
  const school = await seedSchool(db, 'Memory school', USERS);
  const devices = await seedDevices(db, config, school.id, SIZES.length);
  const api = await ctx.api(config, url);
  const figures: Record<string, number> = {};
  try {
    for (const [i, rows] of SIZES.entries()) {
      const zip = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': rowsCsv(batchRows({ rows, userIds: school.userIds, dayOffset: i * 300 })) });
      const worker = spawnScript('worker/main.ts', {
        DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, LOG_LEVEL: 'info', DATA_DIR: ctx.dataDir, IMPORT_JOB_EXPIRE_SECONDS: '1800',
      });
      try {
        await worker.waitFor(/worker started/);
        const idle = rssMiB(worker.pid);
        ctx.progress(`worker ${worker.pid}: importing ${rows} rows (${(zip.length / 1048576).toFixed(1)} MiB zip), idle RSS ${idle} MiB`);
        const form = new FormData();
        form.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'batch.zip');
        const started = performance.now();
        const up = await http(api.url, 'POST', '/v4/synchro/datas', { token: devices[i].token, body: form });
        if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
        for (;;) {
          const st = await db.selectFrom('sync_states').select('status').where('device_id', '=', devices[i].id).where('channel', '=', 'synchro').executeTakeFirst();
          if (st?.status === 2) break;
          if (worker.child.exitCode !== null) throw new Error(`worker exited during the import\n${worker.output.slice(-10).join('\n')}`);
          await new Promise((r) => setTimeout(r, 250));
        }
        const seconds = (performance.now() - started) / 1000;
        const session = await db.selectFrom('sync_sessions').select(['outcome', 'stats']).where('device_id', '=', devices[i].id).executeTakeFirstOrThrow();
        const label = rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1000}k`;
        figures[`idle_rss_mib_${label}`] = idle;
        figures[`peak_rss_mib_${label}`] = peakRssMiB(worker.pid);
        figures[`import_seconds_${label}`] = Math.round(seconds * 10) / 10;
        figures[`zip_mib_${label}`] = Math.round((zip.length / 1048576) * 10) / 10;
        if (session.outcome !== 'imported') ctx.progress(`session outcome ${session.outcome}: ${JSON.stringify(session.stats).slice(0, 200)}`);
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await api.stop();
    await handle.close();
  }
  const small = figures.peak_rss_mib_100k;
  const large = figures['peak_rss_mib_1m'];
  const growth = Math.round(((large - small) / small) * 100);
  return {
    figures: { ...figures, growth_percent: growth },
    goal: 'peak RSS < 256 MB at 1,000,000 rows and ≤ 20% above the 100,000-row peak',
    met: large * 1.048576 < 256 && large <= small * 1.2,
  };
}
