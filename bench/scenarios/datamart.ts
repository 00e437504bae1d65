// Data mart export: a school of 1,000 users with 60 finished days each (60,000 user-days).
// Times the first run (everything collected and exported, files written in emulation), an
// incremental run after 5,000 user-days changed, and what the triggers left on user_days add
// to a bulk rewrite of it (the work every import does). The rewrites stamp rev as every writer
// of user_days does (db/repositories/user-days.ts): the data mart finds changed days by it.
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { runDatamart } from '../../worker/datamart/run.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { benchConfig } from '../harness.js';

const USERS = 1_000;
const DAYS = 60;
const CHANGED = 5_000;

export async function datamartScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle } = await ctx.database('datamart');
  const { db } = handle;
  const config = benchConfig(ctx.dataDir, { DATAMART_EXPORT_CRON: 'off', DATAMART_POLL_CRON: 'off', DATAMART_SWEEP_CRON: 'off' });
  const school = await db.insertInto('schools').values({ name: 'Bench school', timezone: 'UTC' }).returning('id').executeTakeFirstOrThrow();
  await sql`INSERT INTO users (school_id, name, badge, enrolled_on)
    SELECT ${school.id}, 'Pupil ' || g, 'B' || g, '2025-08-25' FROM generate_series(1, ${USERS}) g`.execute(db);
  ctx.progress(`writing ${USERS * DAYS} user-days`);
  await sql`INSERT INTO user_days (school_id, user_id, date, seconds, first_checkin_at)
    SELECT ${school.id}, u.id, d::date, 20000 + (u.id % 7) * 600, d + time '08:00'
    FROM users u CROSS JOIN generate_series((current_date - ${DAYS}::int)::timestamp, (current_date - 1)::timestamp, interval '1 day') d`.execute(db);
  await sql`ANALYZE`.execute(db);

  // Triggers' cost on a bulk rewrite, the same statement with them off and on.
  const rewrite = async () => {
    const t = performance.now();
    await sql`UPDATE user_days SET seconds = seconds + 1, rev = pg_current_xact_id()::text::bigint WHERE user_id <= ${Math.floor(USERS / 2)}`.execute(db);
    return performance.now() - t;
  };
  await sql`ALTER TABLE user_days DISABLE TRIGGER USER`.execute(db);
  const withoutMs = await rewrite();
  await sql`ALTER TABLE user_days ENABLE TRIGGER USER`.execute(db);
  const withMs = await rewrite();

  const worker = await ctx.worker(config, url);
  try {
    ctx.progress('first run');
    let t = performance.now();
    const first = await runDatamart(worker.ctx, null);
    const firstMs = performance.now() - t;
    if (first.status !== 'done') throw new Error(`first run ${first.status}: ${first.error}`);
    const firstRows = await rowsOf(db, first.runId!);
    const firstStages = await stageSeconds(db, first.runId!);

    await sql`UPDATE user_days SET seconds = seconds + 60, rev = pg_current_xact_id()::text::bigint WHERE (user_id, date) IN (
      SELECT user_id, date FROM user_days ORDER BY user_id, date LIMIT ${CHANGED})`.execute(db);
    ctx.progress('incremental run');
    t = performance.now();
    const second = await runDatamart(worker.ctx, null);
    const secondMs = performance.now() - t;
    if (second.status !== 'done') throw new Error(`second run ${second.status}: ${second.error}`);
    const secondRows = await rowsOf(db, second.runId!);

    return {
      figures: {
        first_run_rows: firstRows,
        first_run_s: round(firstMs / 1000),
        first_run_rows_per_s: Math.round(firstRows / (firstMs / 1000)),
        first_run_collect_s: firstStages.collect,
        first_run_export_s: firstStages.export,
        incremental_rows: secondRows,
        incremental_run_s: round(secondMs / 1000),
        rewrite_500_users_ms_without_triggers: Math.round(withoutMs),
        rewrite_500_users_ms_with_triggers: Math.round(withMs),
      },
      notes: `${USERS} persons + ${USERS * DAYS} attendance days, chunks of ${config.datamart.collectChunkSize}/${config.datamart.exportChunkSize}, emulation (files on local disk); rewrite = UPDATE of ${USERS * DAYS / 2} user-days`,
    };
  } finally {
    await worker.stop();
    await handle.close();
  }
}

const round = (v: number) => Math.round(v * 100) / 100;

async function rowsOf(db: Db, runId: number): Promise<number> {
  const row = await sql<{ n: number }>`SELECT coalesce(sum(rows), 0)::int AS n FROM datamart_stages WHERE run_id = ${runId} AND kind = 'export'`.execute(db);
  return row.rows[0].n;
}

async function stageSeconds(db: Db, runId: number): Promise<{ collect: number; export: number }> {
  const rows = await sql<{ kind: 'collect' | 'export'; s: number }>`
    SELECT kind, round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 2)::float8 AS s
    FROM datamart_stages WHERE run_id = ${runId} GROUP BY kind`.execute(db);
  const of = (kind: string) => rows.rows.find((r) => r.kind === kind)?.s ?? 0;
  return { collect: of('collect'), export: of('export') };
}
