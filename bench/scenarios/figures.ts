// Figures: a school of 2,000 users with one school year of check-ins (~800,000 rows). Times
// a full rebuild (user-days per second) through the real api and worker, then the month and
// week aggregates over 100 HTTP calls each, with a calendar of ~20 closures (holidays, public
// holidays, strikes), some of them in the month and week timed. Goal: p95 under 20 ms.
import { sql } from 'kysely';
import { hashPassword } from '../../shared/auth/password.js';
import type { BenchContext, ScenarioResult } from '../harness.js';
import { stats } from '../harness.js';

const USERS = 2_000;
const FROM = '2025-09-01';
const TO = '2026-06-30';
const CALLS = 100;

export async function figuresScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const { url, handle, config } = await ctx.database('figures');
  const { db } = handle;
  const school = await db.insertInto('schools').values({ name: 'Bench school', timezone: 'Europe/Paris' }).returning('id').executeTakeFirstOrThrow();
  await sql`INSERT INTO users (school_id, name, badge, enrolled_on)
    SELECT ${school.id}, 'Pupil ' || g, 'B' || g, '2025-08-25' FROM generate_series(1, ${USERS}) g`.execute(db);
  ctx.progress('generating a school year of check-ins');
  // Arrivals 07:30–08:30, departures 15:00–16:30; 8% absent days, 3% forgotten check-outs.
  const inserted = await sql`
    INSERT INTO attendances (school_id, user_id, type, occurred_at)
    SELECT ${school.id}, u.id, e.type, ((d::date + e.at + random() * e.spread) AT TIME ZONE 'Europe/Paris')
    FROM users u
    CROSS JOIN generate_series(${FROM}::date, ${TO}::date, interval '1 day') d
    CROSS JOIN LATERAL (VALUES ('checkin', time '07:30', interval '60 min'), ('checkout', time '15:00', interval '90 min')) e(type, at, spread)
    WHERE u.school_id = ${school.id} AND extract(isodow FROM d) < 6 AND abs(hashtext(u.id || ':' || d::text)) % 100 >= 8
      AND NOT (e.type = 'checkout' AND abs(hashtext(u.id || '/' || d::text)) % 100 < 3)
  `.execute(db);
  const rows = Number(inserted.numAffectedRows);
  // Marks present (issue #28): half the absent days excused by staff, 3% of days marked late; lateness after 08:00.
  const markedRows = await sql`
    INSERT INTO marks (school_id, user_id, date, mark, reason, author_kind, marked_at)
    SELECT ${school.id}, u.id, d::date, m.mark, m.reason, 'api', now()
    FROM users u
    CROSS JOIN generate_series(${FROM}::date, ${TO}::date, interval '1 day') d
    CROSS JOIN LATERAL (SELECT abs(hashtext(u.id || ':' || d::text)) % 100 AS a, abs(hashtext(u.id || '#' || d::text)) % 100 AS b) h
    CROSS JOIN LATERAL (SELECT CASE WHEN h.a < 4 THEN 'excused' ELSE 'late' END AS mark, CASE WHEN h.a < 4 THEN 'illness' END AS reason) m
    WHERE u.school_id = ${school.id} AND extract(isodow FROM d) < 6 AND (h.a < 4 OR h.b < 3)
  `.execute(db);
  const marks = Number(markedRows.numAffectedRows);
  await db.updateTable('schools').set({ late_after: '08:00' }).where('id', '=', school.id).execute();
  // ~20 closures through the school year, as a school's own entries: the figures read and apply them per request.
  const closures: Array<[string, string, string, string]> = [
    ['holiday', 'Vacances de la Toussaint', '2025-10-18', '2025-11-02'], ['public_holiday', 'Armistice 1918', '2025-11-11', '2025-11-11'],
    ['holiday', 'Vacances de Noël', '2025-12-20', '2026-01-04'], ['holiday', 'Vacances d\'Hiver', '2026-02-21', '2026-03-08'],
    ['holiday', 'Vacances de Printemps', '2026-04-18', '2026-05-03'], ['public_holiday', 'Lundi de Pâques', '2026-04-06', '2026-04-06'],
    ['public_holiday', 'Fête du Travail', '2026-05-01', '2026-05-01'], ['public_holiday', 'Victoire 1945', '2026-05-08', '2026-05-08'],
    ['holiday', 'Pont de l\'Ascension', '2026-05-14', '2026-05-17'], ['public_holiday', 'Lundi de Pentecôte', '2026-05-25', '2026-05-25'],
    ['closure', 'Strike', '2025-10-02', '2025-10-02'], ['closure', 'Snow day', '2026-01-13', '2026-01-13'], ['closure', 'Strike', '2026-03-10', '2026-03-10'],
    ['closure', 'Pedagogical day', '2026-03-13', '2026-03-13'], ['closure', 'Heating failure', '2026-03-23', '2026-03-24'], ['closure', 'Strike', '2026-03-31', '2026-03-31'],
    ['closure', 'Pedagogical day', '2025-11-21', '2025-11-21'], ['closure', 'Elections', '2026-06-12', '2026-06-12'], ['closure', 'Exams', '2026-06-15', '2026-06-16'],
    ['term', 'School year 2025–2026', '2025-09-01', '2026-07-03'],
  ];
  await db.insertInto('calendar_entries').values(closures.map(([kind, label, starts_on, ends_on]) => ({ school_id: school.id, calendar_id: null, kind: kind as 'closure', label, starts_on, ends_on }))).execute();
  await sql`ANALYZE`.execute(db);
  const staff = await db.insertInto('staff').values({ email: 'bench@example.test', password_hash: await hashPassword('bench-password'), role: 'backoffice', school_id: null })
    .returning('id').executeTakeFirstOrThrow();

  const api = await ctx.api(config, url);
  const worker = await ctx.worker(config, url);
  try {
    const login = await fetch(`${api.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.test', password: 'bench-password' }) });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${token}` };
    void staff;

    ctx.progress(`rebuilding ${rows} rows of figures`);
    const started = performance.now();
    const res = await fetch(`${api.url}/api/schools/${school.id}/rebuild-figures`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ from: FROM, to: TO }) });
    const job = (await res.json()) as { id: number };
    let status: { status: string; chunks_done: number; chunks_total: number; days_changed: number };
    for (;;) {
      status = await (await fetch(`${api.url}/api/jobs/${job.id}`, { headers: auth })).json() as typeof status;
      if (status.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rebuildSeconds = (performance.now() - started) / 1000;
    const userDays = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM user_days`.execute(db)).rows[0].n);
    // What autovacuum does soon after a bulk write: sets the visibility map for index-only scans.
    await sql`VACUUM ANALYZE user_days`.execute(db);

    const time = async (path: string) => {
      const samples: number[] = [];
      for (let i = 0; i < CALLS + 5; i++) {
        const t = performance.now();
        const r = await fetch(`${api.url}${path}`, { headers: auth });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
        if (i >= 5) samples.push(performance.now() - t); // 5 warm-up calls
      }
      return stats(samples);
    };
    ctx.progress('timing aggregates');
    const month = await time(`/api/attendances/aggregate/school/${school.id}?period=month&from=2026-03-01&to=2026-03-31`);
    const week = await time(`/api/attendances/aggregate/school/${school.id}?period=week&from=2026-03-09&to=2026-03-15`);
    const p95 = Math.max(month.p95, week.p95);
    return {
      figures: {
        users: USERS, calendar_entries: closures.length, attendance_rows: rows, marks, user_days: userDays, rebuild_chunks: status.chunks_total, rebuild_seconds: Math.round(rebuildSeconds * 10) / 10,
        rebuild_user_days_per_second: Math.round(userDays / rebuildSeconds),
        month_p50_ms: month.p50, month_p95_ms: month.p95, week_p50_ms: week.p50, week_p95_ms: week.p95,
      },
      goal: 'aggregate p95 < 20 ms',
      met: p95 < 20,
      notes: `rebuild status ${status.status}, ${status.days_changed} user-days written`,
    };
  } finally {
    await worker.stop();
    await api.stop();
    await handle.close();
  }
}
