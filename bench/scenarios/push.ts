// PUSH terminals: N terminals (spread over 500 schools) each polling getrequest every 10 s
// (staggered) and sending one real-time punch (ATTLOG, one line) a minute, N stepped up to 10,000 (1,000 polls/s), against
// the real api (one process, as `npm run api`) and worker, both their own processes. An open
// load: calls leave on schedule whatever the answers, so a slow server shows as latency.
// Measured per step: getrequest and ATTLOG `OK` latency as the terminal sees it, and whether
// the generator kept its schedule. Anchor, the same load at every step right after the product's:
// a bare node:http server answering `OK` (bench/anchors/push-ok.ts); ratio = real getrequest p99
// / anchor p99, per step; at the top step product and anchor alternate `--rounds` times (3 by
// default) and the ratio is the median round's, with the spread.
// Goal: at the top step (25,000 terminals), getrequest p99 < 50 ms and ATTLOG OK p99 < 250 ms.
import http from 'node:http';
import { sql } from 'kysely';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { roundsOption, spread, stats, type BenchContext, type ScenarioResult } from '../harness.js';
import { machineCpu, postgresCpuSeconds, processCpuSeconds, selfCpuSeconds } from '../cpu.js';
import { freePort, spawnScript, waitForHttp } from '../spawn.js';

// PUSH_BENCH_STEPS / PUSH_BENCH_SECONDS shrink the run to check the scenario itself (e.g. "200" and "5").
const STEPS = (process.env.PUSH_BENCH_STEPS ?? '1000,2500,5000,10000,25000').split(',').map(Number);
const POLL_MS = 10_000;
const PUNCH_MS = 60_000;
const STEP_SECONDS = Number(process.env.PUSH_BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = Math.min(12, STEP_SECONDS);
/** Terminals spread over this many schools (20 each at 25,000), each with PUPILS pupils badged P1…P<PUPILS>. */
const SCHOOLS = Number(process.env.PUSH_BENCH_SCHOOLS ?? 1250);
const PUPILS = 40;

interface StepResult {
  terminals: number;
  polls: number;
  poll_p50_ms: number;
  poll_p99_ms: number;
  punches: number;
  punch_p50_ms: number;
  punch_p99_ms: number;
  failed: number;
  /** Calls that left more than 100 ms after their time: the generator itself fell behind. */
  late: number;
}

/** CPU of each process over a step, in cores (1 = one core busy), and the machine's busy share. */
interface StepCpu {
  cpu_api: number;
  cpu_worker: number;
  cpu_postgres: number;
  cpu_client: number;
  cpu_machine: number;
  /** PUSH sessions the worker imported per second during the step. */
  imported_per_s: number;
  /** PUSH sessions accepted and not imported yet at the end of the step. */
  backlog: number;
}

/** The load of `terminals` terminals for `seconds` (plus a warm-up not counted) against `port`. */
async function runLoad(port: number, terminals: number, seconds: number, opts: { punches: boolean; serials: string[]; badges: string[] }): Promise<StepResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const call = (method: 'GET' | 'POST', path: string, body?: string) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  const polls: number[] = [];
  const punches: number[] = [];
  let failed = 0;
  let late = 0;
  const start = performance.now() + 200;
  const countFrom = start + WARMUP_SECONDS * 1000;
  const end = countFrom + seconds * 1000;
  const timers: NodeJS.Timeout[] = [];
  let punchSeq = 0;
  const pad = (n: number) => String(n).padStart(2, '0');
  const fire = (due: number, method: 'GET' | 'POST', path: string, samples: number[], expect: (t: string) => boolean, body?: string) => {
    const t = performance.now();
    if (t - due > 100 && due >= countFrom) late++;
    call(method, path, body).then((r) => {
      if (t < countFrom) return;
      if (r.status === 200 && expect(r.text)) samples.push(performance.now() - t);
      else failed++;
    }, () => { if (t >= countFrom) failed++; });
  };
  for (let i = 0; i < terminals; i++) {
    const sn = opts.serials[i];
    // Each terminal's calls keep their phase: polls every POLL_MS, a punch every PUNCH_MS.
    const pollPhase = (i / terminals) * POLL_MS;
    const schedulePoll = (due: number) => {
      if (due > end) return;
      timers.push(setTimeout(() => {
        fire(due, 'GET', `/iclock/getrequest?SN=${sn}`, polls, (t) => t === 'OK');
        schedulePoll(due + POLL_MS);
      }, Math.max(0, due - performance.now())));
    };
    schedulePoll(start + pollPhase);
    if (opts.punches) {
      const punchPhase = ((i * 7919) % terminals) / terminals * PUNCH_MS;
      const schedulePunch = (due: number) => {
        if (due > end) return;
        timers.push(setTimeout(() => {
          const at = new Date(Date.now() - 1000);
          const n = punchSeq++;
          const line = `${opts.badges[n % opts.badges.length]}\t${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}\t255\t1\t0\t0\t0\n`;
          fire(due, 'POST', `/iclock/cdata?SN=${sn}&table=ATTLOG&Stamp=${n}`, punches, (t) => t === 'OK: 1', line);
          schedulePunch(due + PUNCH_MS);
        }, Math.max(0, due - performance.now())));
      };
      schedulePunch(start + punchPhase);
    }
  }
  await new Promise((r) => setTimeout(r, end - performance.now() + 2000));
  for (const t of timers) clearTimeout(t);
  agent.destroy();
  const p = stats(polls);
  const q = stats(punches);
  return {
    terminals, polls: polls.length, poll_p50_ms: p.p50, poll_p99_ms: p.p99, punches: punches.length, punch_p50_ms: q.p50, punch_p99_ms: q.p99, failed, late,
  };
}

export async function pushScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const max = STEPS[STEPS.length - 1];
  const rounds = roundsOption();
  const { url, handle, config } = await ctx.database('push', { IMPORT_MAX_PENDING: '10000000' });
  const { db } = handle;
  ctx.progress(`registering ${max} PUSH terminals in ${SCHOOLS} schools of ${PUPILS} pupils`);
  const schools = await sql<{ id: number }>`INSERT INTO schools (name, timezone) SELECT 'Push school ' || g, 'UTC' FROM generate_series(1, ${SCHOOLS}) g RETURNING id`.execute(db);
  const schoolIds = schools.rows.map((r) => Number(r.id));
  await sql`INSERT INTO users (school_id, name, badge) SELECT s, 'Pupil ' || g, 'P' || g FROM unnest(${schoolIds}::bigint[]) s, generate_series(1, ${PUPILS}) g`.execute(db);
  const hash = hashDeviceSecret(generateDeviceSecret());
  await sql`
    WITH d AS (
      INSERT INTO devices (school_id, name, kind, protocol, serial_number, secret_hash, sync_interval_seconds)
      SELECT (${schoolIds}::bigint[])[1 + (g - 1) % ${SCHOOLS}], 'Terminal ' || g, 'terminal', 'push', 'BENCH' || lpad(g::text, 6, '0'), ${hash}, 300 FROM generate_series(1, ${max}) g
      RETURNING id, school_id, serial_number
    ), directory AS (
      INSERT INTO push_serials (serial_number, school_id) SELECT serial_number, school_id FROM d
    )
    -- The roster as already sent, so that the worker queues no USERINFO commands during the load;
    -- bound to the address they call from, as terminals in service are (approved from where they
    -- called, or bound by the migration): the load measures terminals at work, not their first call.
    INSERT INTO push_terminals (serial_number, school_id, device_id, roster_version, bound_address, bound_confirmed)
    SELECT serial_number, school_id, id, 9223372036854775807, '127.0.0.1', true FROM d
  `.execute(db);
  await handle.close();
  const serials = Array.from({ length: max }, (_, i) => `BENCH${String(i + 1).padStart(6, '0')}`);
  const badges = Array.from({ length: PUPILS }, (_, i) => `P${i + 1}`);

  // PUSH_BENCH_CPU_PROF=<dir>: the api and the worker write V8 CPU profiles there when stopped.
  const profile: Record<string, string> = process.env.PUSH_BENCH_CPU_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.PUSH_BENCH_CPU_PROF}` } : {};
  const env = {
    ...profile,
    DATABASE_URL: url, JWT_SECRET: config.jwtSecret!, NODE_ENV: 'production', API_PROCESSES: '1', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    IMPORT_MAX_PENDING: '10000000', DATA_DIR: ctx.dataDir,
  };
  const apiPort = await freePort();
  const api = spawnScript('api/main.ts', { ...env, PORT: String(apiPort) });
  const worker = spawnScript('worker/main.ts', env);
  const anchorPort = await freePort();
  // The anchor idles beside the api while the product is loaded, and the other way round.
  const anchor = spawnScript('bench/anchors/push-ok.ts', { PORT: String(anchorPort) });
  const steps: Array<StepResult & StepCpu & { ratio: number }> = [];
  const anchors: StepResult[] = [];
  const topRounds: Array<{ poll_p99_ms: number; punch_p99_ms: number; anchor_poll_p99_ms: number; failed: number }> = [];
  let imported = 0;
  const check = (await import('../../db/database.js')).connectDatabase(url, { max: 1, logger: ctx.logger, applicationName: 'bench' });
  const counts = async () => (await sql<{ done: number; pending: number }>`
    SELECT count(*) FILTER (WHERE processed_at IS NOT NULL)::int AS done, count(*) FILTER (WHERE processed_at IS NULL)::int AS pending
    FROM sync_sessions WHERE channel = 'push'`.execute(check.db)).rows[0];
  try {
    await Promise.all([waitForHttp(`http://127.0.0.1:${apiPort}/healthz`), anchor.waitFor(/anchor listening/)]);
    const pgDir = `${ctx.dataDir}/postgres`;
    const runAnchor = async (n: number) => {
      ctx.progress(`anchor: the ${n}-terminal load on a bare node:http server answering OK`);
      return runLoad(anchorPort, n, STEP_SECONDS, { punches: true, serials, badges });
    };
    for (const n of STEPS) {
      ctx.progress(`${n} terminals: polls every ${POLL_MS / 1000} s, a punch a minute, ${STEP_SECONDS} s measured`);
      const before = { api: processCpuSeconds(api.pid), worker: processCpuSeconds(worker.pid), postgres: postgresCpuSeconds(pgDir), client: selfCpuSeconds(), machine: machineCpu(), at: performance.now(), ...await counts() };
      // What the database connections wait on, sampled each second during the step (PUSH_BENCH_WAITS=1).
      const waits = new Map<string, number>();
      const sampler = process.env.PUSH_BENCH_WAITS ? setInterval(() => {
        void sql<{ k: string; n: number }>`
          SELECT application_name || ' ' || state || ' ' || coalesce(wait_event_type || ':' || wait_event, '-') AS k, count(*)::int AS n
          FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1`.execute(check.db)
          .then((r) => { for (const row of r.rows) waits.set(row.k, (waits.get(row.k) ?? 0) + row.n); }, () => undefined);
      }, 1000) : null;
      const step = await runLoad(apiPort, n, STEP_SECONDS, { punches: true, serials, badges });
      if (sampler) {
        clearInterval(sampler);
        ctx.progress(`connections by state and wait (summed over 1 s samples): ${JSON.stringify(Object.fromEntries([...waits].sort((a, b) => b[1] - a[1])))}`);
      }
      const after = { api: processCpuSeconds(api.pid), worker: processCpuSeconds(worker.pid), postgres: postgresCpuSeconds(pgDir), client: selfCpuSeconds(), machine: machineCpu(), at: performance.now(), ...await counts() };
      const seconds = (after.at - before.at) / 1000;
      const r2 = (v: number) => Math.round(v * 100) / 100;
      const base = await runAnchor(n);
      anchors.push(base);
      steps.push({
        ...step,
        ratio: r2(step.poll_p99_ms / base.poll_p99_ms),
        cpu_api: r2((after.api - before.api) / seconds), cpu_worker: r2((after.worker - before.worker) / seconds),
        cpu_postgres: r2((after.postgres - before.postgres) / seconds), cpu_client: r2((after.client - before.client) / seconds),
        cpu_machine: r2((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)),
        imported_per_s: r2((after.done - before.done) / seconds), backlog: after.pending,
      });
      ctx.progress(JSON.stringify(steps.at(-1)));
    }
    const top = steps[steps.length - 1];
    topRounds.push({ poll_p99_ms: top.poll_p99_ms, punch_p99_ms: top.punch_p99_ms, anchor_poll_p99_ms: anchors[anchors.length - 1].poll_p99_ms, failed: top.failed });
    for (let round = 2; round <= rounds; round++) {
      ctx.progress(`round ${round}/${rounds} at ${max} terminals: product, then anchor`);
      const again = await runLoad(apiPort, max, STEP_SECONDS, { punches: true, serials, badges });
      const base = await runAnchor(max);
      topRounds.push({ poll_p99_ms: again.poll_p99_ms, punch_p99_ms: again.punch_p99_ms, anchor_poll_p99_ms: base.poll_p99_ms, failed: again.failed });
    }
    imported = (await counts()).done;
  } finally {
    await check.close();
    await anchor.stop();
    await worker.stop();
    await api.stop();
  }

  const figures: Record<string, number | string> = {};
  for (const s of steps) {
    for (const [k, v] of Object.entries(s)) if (k !== 'terminals') figures[`n${s.terminals}_${k}`] = v;
  }
  const poll = spread(topRounds.map((r) => r.poll_p99_ms));
  const punch = spread(topRounds.map((r) => r.punch_p99_ms));
  const ratios = spread(topRounds.map((r) => r.poll_p99_ms / r.anchor_poll_p99_ms));
  const failed = topRounds.reduce((n, r) => n + r.failed, 0);
  figures[`n${max}_rounds_poll_p99_ms`] = poll.text;
  figures[`n${max}_rounds_punch_p99_ms`] = punch.text;
  figures.push_sessions_imported = imported;
  const anchorFigures: Record<string, number | string> = {};
  for (const a of anchors) {
    for (const [k, v] of Object.entries(a)) if (k !== 'terminals') anchorFigures[`n${a.terminals}_${k}`] = v;
  }
  anchorFigures[`n${max}_rounds_poll_p99_ms`] = spread(topRounds.map((r) => r.anchor_poll_p99_ms)).text;
  return {
    figures,
    anchor: anchorFigures,
    ratio: ratios.median,
    goal: `${max} terminals: getrequest p99 < 50 ms, ATTLOG OK p99 < 250 ms, no failed call (the median of ${rounds} rounds; ratio: getrequest p99 / anchor p99)`,
    met: poll.median < 50 && punch.median < 250 && failed === 0,
    notes: `ratio at the top step per round ${ratios.text}; per step: ${steps.map((x) => `${x.terminals} → ${x.ratio}`).join(', ')}; open load from the bench process (node:http, keep-alive); api and worker one process each; late = calls the generator sent >100 ms after their time`,
  };
}
